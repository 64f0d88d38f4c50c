/*
    npm run fuzz [-- cases seed]: the codec fuzz loop at length (1,000,000 cases by default), on the full decoder,
    then on the client's against the full one (the same packets and errors for the same inputs).
 */
import { fuzz, fuzzClientDecoder } from './fuzz-lib.js'

const cases = Number(process.argv[2] ?? 1_000_000)
const seed = Number(process.argv[3] ?? Date.now() % 100000)
let start = performance.now()
const r = fuzz(cases, seed)
const seconds = () => ((performance.now() - start) / 1000).toFixed(1)
console.log(`seed ${seed}: ${r.cases} cases, ${r.packets} packets decoded, ${r.rejected} inputs rejected, at most ${r.maxHeld} bytes held, ${seconds()} s`)
start = performance.now()
const c = r.failure === null ? fuzzClientDecoder(cases, seed) : null
if (c !== null) {
    console.log(`client's decoder, seed ${seed}: ${c.cases} cases, ${c.compared} compared whole with the full decoder, ${c.packets} packets decoded, ${c.rejected} inputs rejected, ${seconds()} s`)
}
const failure = r.failure ?? c?.failure
if (failure) {
    console.error(`FAILED: ${failure}`)
    process.exit(1)
}
