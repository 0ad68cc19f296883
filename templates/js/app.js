// The `{{name}}` component: implements the `{{world}}` world in `wit/`.
//
// `wcomp build` turns this ES module into a WebAssembly component with componentize-js: each
// exported interface is an exported object named after it (in camelCase), whose methods are
// the interface's functions.

/** Implements the `text` interface of `wit/world.wit`. */
export const text = {
  /**
   * Describes `input`: how many words and characters it holds.
   * @param {string} input
   * @returns {string}
   */
  describe(input) {
    const words = input.split(/\s+/).filter((word) => word.length > 0).length;
    const characters = [...input].length;
    return `${words} words, ${characters} characters`;
  },
};
