// The plan instrumenter: Istanbul's program visitor (istanbul-lib-instrument) run by Babel, bundled into one
// script for V8 (mini-racer has no modules and no Node.js built-ins). Built by scripts/build-instrumenter.
//
// It instruments a script the way istanbul-lib-instrument's own Instrumenter does, with three differences a
// SmartPlan needs:
// - a plan is a function body, so its top level may `return`;
// - the generated code keeps the source's line numbers (Babel's retainLines, comments dropped), so a stack
//   trace of an instrumented plan still names the plan's own lines;
// - the counters live on `globalThis[coverageVariable]`, reached without `new Function` (the plan sandbox
//   has no use for it).
import { programVisitor } from "istanbul-lib-instrument";
import { transformSync } from "@babel/core";

function instrument(code, filename, coverageVariable) {
  var coverage = null;
  var result = transformSync(code, {
    configFile: false,
    babelrc: false,
    filename: filename,
    sourceType: "script",
    retainLines: true,
    compact: false,
    comments: false,
    parserOpts: { allowReturnOutsideFunction: true },
    plugins: [
      function (babel) {
        var visitor;
        return {
          visitor: {
            Program: {
              enter: function (path) {
                visitor = programVisitor(babel.types, filename, {
                  coverageVariable: coverageVariable,
                  coverageGlobalScope: "globalThis",
                  coverageGlobalScopeFunc: false,
                  reportLogic: false
                });
                visitor.enter(path);
              },
              exit: function (path) {
                coverage = visitor.exit(path).fileCoverage;
              }
            }
          }
        };
      }
    ]
  });
  // The visitor leaves the hash out of the data it returns; the counters in V8 carry it (from the preamble it
  // wrote), and the caller matches them with this data by it.
  coverage.hash = /\bvar hash = "([0-9a-f]+)"/.exec(result.code)[1];
  return { code: result.code, coverage: coverage };
}

globalThis.OperateInstrumenter = { instrument: instrument };
