// The `{{name}}` component: implements the `{{world}}` world in `wit/`.
//
// `wcomp build` compiles this file with the TypeScript compiler and turns the result into a
// WebAssembly component with componentize-js: each exported interface is an exported object
// named after it (in camelCase), whose methods are the interface's functions. The world's
// types are in `target/wcomp/types/world.d.ts`, written from the WIT by every build.

/** Implements the `text` interface of `wit/world.wit`. */
export const text = {
  /** Describes `input`: how many words and characters it holds. */
  describe(input: string): string {
    const words = input.split(/\s+/).filter((word) => word.length > 0).length;
    const characters = [...input].length;
    return `${words} words, ${characters} characters`;
  },
};
