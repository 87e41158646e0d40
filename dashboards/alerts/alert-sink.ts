/**
 * Where alert events go. Each sink queues what it is given and delivers on its own, so `send` never
 * blocks and never throws: the engine's evaluation is not held up by a slow receiver, and one failing
 * sink does not stop the others.
 */
import type { AlertEvent } from './alert-event.ts';

export interface AlertSink {
  /** For logs and the `sink` metric label. */
  readonly name: string;
  send(event: AlertEvent): void;
  /** Resolves once everything sent so far has been delivered or given up on. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Fans events out to every sink. */
export class AlertDispatcher {
  constructor(private readonly sinks: readonly AlertSink[]) {}

  dispatch(events: readonly AlertEvent[]): void {
    for (const event of events) for (const sink of this.sinks) sink.send(event);
  }

  async drain(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.drain()));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
