/** Dynamic import() that tslab and tsc do not rewrite into require(); for ESM-only packages. */
export declare function importESM<T = any>(specifier: string): Promise<T>;
