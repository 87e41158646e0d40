import { networkInterfaces } from 'node:os';

/**
 * An IPv4 address of this machine other than 127.0.0.1, to tell a server bound to loopback only from
 * one bound to every interface: a non-loopback address when the machine has one, else 127.0.0.2. On
 * Linux the whole of 127.0.0.0/8 reaches the machine, but a socket bound to 127.0.0.1 accepts only
 * that address, so 127.0.0.2 is refused by it and answered by a socket bound to 0.0.0.0.
 */
export const otherAddress: string =
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.2';
