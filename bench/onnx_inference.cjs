// ONNX Runtime's side of bench/compare_onnxruntime.sh: times session.run on the model and inputs
// bench_onnx_inference wrote, at batch 1 and 128, as that program times descent: the median over
// ROUNDS rounds of the mean time of one call within a round of SECONDS seconds. session.run is
// what a Node.js user calls; its time includes the binding's crossing into C++ and back.
//
//   node onnx_inference.cjs NODE_MODULES_DIR MODEL.onnx THREADS SECONDS ROUNDS
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, model, threads, seconds, rounds] = process.argv.slice(2);
const ort = require(path.resolve(modules, 'onnxruntime-node'));

(async () => {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const bytes = fs.readFileSync(model + '.inputs');
  const x = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const version = require(path.resolve(modules, 'onnxruntime-node', 'package.json')).version;
  for (const batch of [1, 128]) {
    const input = {input: new ort.Tensor('float32', x.slice(0, batch * 784), [batch, 784])};
    // Only f(x), as descent's predict_proba computes it.
    const fetch = ['probabilities'];
    for (let i = 0; i < 20; ++i) await session.run(input, fetch);
    const perCall = [];
    for (let r = 0; r < Number(rounds); ++r) {
      const start = process.hrtime.bigint();
      let calls = 0;
      let elapsed = 0;
      do {
        await session.run(input, fetch);
        ++calls;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      } while (elapsed < Number(seconds));
      perCall.push(elapsed / calls);
    }
    perCall.sort((a, b) => a - b);
    const median = perCall[Math.floor(perCall.length / 2)];
    console.log(`onnxruntime-${version} batch=${batch} threads=${threads} median_us=${(median * 1e6).toFixed(2)} ` +
                `samples_per_s=${(batch / median).toFixed(0)}`);
  }
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
