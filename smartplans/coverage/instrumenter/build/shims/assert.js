// Babel asserts its own invariants with Node's `assert` (ok and fail are what it calls).
function assert(value, message) { if (!value) throw new Error(message || "assertion failed"); }
assert.ok = assert;
assert.fail = function (message) { throw new Error(message || "assertion failed"); };
export default assert;
