/*
    One contender's idle connections measured cold, in a process of their own (npm run bench starts it): the
    library loaded and nothing run before, as an application opens its connections. Prints the footprint as JSON.

        node --expose-gc dist/bench/idle-cold.js <contender module> <port> <count>
 */
import type { Contender } from './lib/contender.js'

const [module, port, count] = process.argv.slice(2)
const exports = await import(`./lib/${module}.js`) as Record<string, unknown>
const contender = Object.values(exports).find((v): v is Contender => typeof (v as Contender | null)?.idle === 'function')!
const fp = await contender.idle(Number(port), Number(count))
process.stdout.write(`${JSON.stringify(fp)}\n`)
process.exit(0)
