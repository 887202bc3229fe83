// Node build only (tsconfig "paths"): the part of '@kit.CoreFileKit' the facade's types use.
// The facade imports it for types only, so nothing of it is loaded at run time.
export namespace fileIo {
  interface File {
    readonly fd: number;
    readonly path: string;
    readonly name: string;
  }
}
