// ONNX Runtime (onnxruntime-node, CPU) runs descent's exported models: for each case of
// DIR/cases.json, the whole batch and then its first and last samples alone (the batch
// dimension is symbolic): the probabilities within 1e-5 of descent's, the same class for every
// sample, and a(L+1) ("logits", or squared_error's "output") within 1e-5 relative, |d| <= 1e-5
// max(1, |a|): float32 rounds a logit of 20 to steps of 2e-6, and two correct sums of 784
// products differ by several steps.
//
//   node run_onnxruntime.cjs NODE_MODULES_DIR CASES_DIR
//
// Exit status: 0 all agree, 1 a difference, 77 onnxruntime-node is not installed or no models
// were written (skipped).
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, dir] = process.argv.slice(2);
let ort;
try {
  ort = require(path.resolve(modules, 'onnxruntime-node'));
} catch (e) {
  console.log(`onnxruntime-node is not installed in ${modules} (${e.code || e.message}): skipped`);
  process.exit(77);
}
if (!fs.existsSync(path.join(dir, 'cases.json'))) {
  console.log(`${dir}/cases.json is missing (its models were not written): skipped`);
  process.exit(77);
}
const tolerance = 1e-5;

function read(file, type) {
  const bytes = fs.readFileSync(path.join(dir, file));
  const Array = type === 'float32' ? Float32Array : Float64Array;
  // A copy: Buffer's memory may not be aligned for the typed array.
  return new Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function argmax(data, row, width) {
  let best = 0;
  for (let c = 1; c < width; ++c) if (data[row * width + c] > data[row * width + best]) best = c;
  return best;
}

// Compares ONNX Runtime's rows [first, first + rows) with descent's; returns the failures.
function compare(name, output, got, expected, first, rows, width) {
  const failures = [];
  const relative = output !== 'probabilities';
  let worst = 0;
  for (let r = 0; r < rows; ++r) {
    for (let c = 0; c < width; ++c) {
      const e = expected[(first + r) * width + c];
      const d = Math.abs(got[r * width + c] - e) / (relative ? Math.max(1, Math.abs(e)) : 1);
      if (!(d <= worst)) worst = d;  // NaN counts as the worst
    }
    if (output === 'probabilities' && argmax(got, r, width) !== argmax(expected, first + r, width))
      failures.push(`${name}: sample ${first + r}: ONNX Runtime's class ${argmax(got, r, width)}, descent's ${argmax(expected, first + r, width)}`);
  }
  if (!(worst <= tolerance))
    failures.push(`${name}: ${output}: max ${relative ? 'relative ' : ''}difference ${worst} > ${tolerance}`);
  return {failures, worst};
}

(async () => {
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
  let failures = [];
  for (const c of cases) {
    const session = await ort.InferenceSession.create(path.join(dir, c.model));
    const x = read(c.input, c.type);
    const expected = Object.fromEntries(Object.entries(c.outputs).map(([k, f]) => [k, read(f, c.type)]));
    const names = Object.keys(c.outputs).sort();
    if (JSON.stringify([...session.outputNames].sort()) !== JSON.stringify(names))
      failures.push(`${c.name}: outputs ${session.outputNames}, expected ${names}`);
    const worst = {};
    for (const [first, rows] of [[0, c.batch], [0, 1], [c.batch - 1, 1]]) {
      const input = new ort.Tensor(c.type, x.slice(first * c.features, (first + rows) * c.features), [rows, c.features]);
      const result = await session.run({[session.inputNames[0]]: input});
      for (const output of names) {
        const r = compare(c.name, output, result[output].data, expected[output], first, rows, c.classes);
        failures = failures.concat(r.failures);
        worst[output] = Math.max(worst[output] || 0, r.worst);
      }
    }
    const within = names.map((o) => `${o} within ${worst[o].toExponential(2)}${o === 'probabilities' ? '' : ' relative'}`);
    console.log(`${c.name} (${c.type}): ${c.batch} samples, ${within.join(', ')}`);
  }
  for (const f of failures.slice(0, 20)) console.log(`FAILED: ${f}`);
  console.log(`onnxruntime-node ${require(path.resolve(modules, 'onnxruntime-node', 'package.json')).version}: ` +
              `${cases.length} models, ${failures.length} failures`);
  process.exit(failures.length === 0 ? 0 : 1);
})().catch((e) => {
  console.log(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
