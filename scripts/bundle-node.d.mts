export function bundleForNode(entry: string, outfile: string, external?: string[]): Promise<string>;
