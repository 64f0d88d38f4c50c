/*
    One contender's idle connections measured cold, in a process of their own (npm run bench starts it): the
    library loaded and nothing run before, as an application opens its connections. Prints the footprint as JSON.

        node --expose-gc dist/bench/idle-cold.js <contender module> <port> <count>
 */
import { loadContender } from './lib/contender.js'

const [module, port, count] = process.argv.slice(2)
const contender = await loadContender(module)
const fp = await contender.idle(Number(port), Number(count))
process.stdout.write(`${JSON.stringify(fp)}\n`)
process.exit(0)
