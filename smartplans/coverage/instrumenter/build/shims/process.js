// Babel reads process.env and process.cwd() while it sets itself up; V8 alone has no `process`.
export var process = { env: { NODE_ENV: "production" }, cwd: function () { return "/"; }, platform: "linux", version: "" };
