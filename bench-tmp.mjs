import { findJsonTextProblem, findUnstorableValue, canonicalJson } from './dist/src/common/canonical-json.js';
const data = {};
for (let i = 0; i < 22000; i++) data[`k${i.toString(36)}`] = i % 10;
const wide = Buffer.from(JSON.stringify({payload:{module:'m',nonce:'x',timestamp:'t',data},signature:'A'.repeat(344)}));
const d2 = {}; for (let i = 0; i < 9990; i++) d2[`k${i.toString(36)}`] = i % 10;
const atBound = Buffer.from(JSON.stringify({payload:{module:'m',nonce:'x',timestamp:'t',data:d2},signature:'A'.repeat(344)}));
const bounds = { maxDepth: 64, maxValues: 10000 };
for (const [name, buf] of [['wide', wide], ['atBound', atBound]]) {
  for (let i = 0; i < 50; i++) findJsonTextProblem(buf, bounds);
  let t = performance.now(); for (let i = 0; i < 200; i++) findJsonTextProblem(buf, bounds); const scan = (performance.now() - t) / 200;
  t = performance.now(); let v; for (let i = 0; i < 20; i++) v = JSON.parse(buf.toString()); const parse = (performance.now() - t) / 20;
  t = performance.now(); for (let i = 0; i < 20; i++) findUnstorableValue(v); const walk = (performance.now() - t) / 20;
  t = performance.now(); for (let i = 0; i < 20; i++) canonicalJson(v.payload); const canon = (performance.now() - t) / 20;
  console.log(name, buf.length, 'scan', scan.toFixed(3), 'parse', parse.toFixed(2), 'walk', walk.toFixed(2), 'canon', canon.toFixed(2));
}
