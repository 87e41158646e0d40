/** Types of build.mjs for TypeScript importers (embed.ts, the tests). */
export declare const BUNDLE_PATH: string;
export declare function buildNodeRedBundle(): Promise<{ path: string; bytes: number }>;
