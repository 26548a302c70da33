// istanbul-lib-instrument hashes each file's source for the coverage data's `hash` (with Node's crypto, which
// V8 alone does not have). It only has to tell two versions of a file apart: FNV-1a over UTF-16 code units.
export function createHash() {
  var text = "";
  return {
    update: function (s) { text += String(s); return this; },
    digest: function () {
      var h = 0x811c9dc5;
      for (var i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
      return ("0000000" + h.toString(16)).slice(-8);
    }
  };
}
export default { createHash: createHash };
