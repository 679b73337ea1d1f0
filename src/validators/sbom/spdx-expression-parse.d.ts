// spdx-expression-parse ships no types; this is the shape its README documents (version 4).
declare module 'spdx-expression-parse' {
  namespace parse {
    interface LicenseInfo {
      readonly license: string;
      readonly plus?: true;
      readonly exception?: string;
    }
    interface ConjunctionInfo {
      readonly conjunction: 'and' | 'or';
      readonly left: Info;
      readonly right: Info;
    }
    type Info = LicenseInfo | ConjunctionInfo;
  }
  /** Parses an SPDX license expression; throws on anything else (ids are case-sensitive). */
  function parse(expression: string): parse.Info;
  export = parse;
}
