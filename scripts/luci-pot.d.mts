export declare const POT_FILE: string;
export declare class PotError extends Error {}
export declare function extractJs(src: string, file?: string): { msgid: string; line: number }[];
export declare function collect(): Map<string, string[]>;
export declare function renderPot(refs: Map<string, string[]>): string;
export declare function potMsgids(text: string): string[];
