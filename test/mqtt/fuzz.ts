/*
    npm run fuzz [-- cases seed]: the codec fuzz loop at length (1,000,000 cases by default).
 */
import { fuzz } from './fuzz-lib.js'

const cases = Number(process.argv[2] ?? 1_000_000)
const seed = Number(process.argv[3] ?? Date.now() % 100000)
const start = performance.now()
const r = fuzz(cases, seed)
console.log(`seed ${seed}: ${r.cases} cases, ${r.packets} packets decoded, ${r.rejected} inputs rejected, at most ${r.maxHeld} bytes held, ${((performance.now() - start) / 1000).toFixed(1)} s`)
if (r.failure) {
    console.error(`FAILED: ${r.failure}`)
    process.exit(1)
}
