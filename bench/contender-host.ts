/*
    The process one benchmark contender runs in (bench/lib/host.ts forks it): it answers calls of the
    contender's methods over IPC until the parent disconnects.

        (forked) node --expose-gc dist/bench/contender-host.js <contender module>
 */
import { loadContender, type Contender } from './lib/contender.js'

const contender = await loadContender(process.argv[2])
const send = (m: unknown): void => { process.send!(m) }

process.on('message', (m: { id: number, method: keyof Contender, args: unknown[] }) => {
    const method = contender[m.method] as (...args: unknown[]) => Promise<unknown>
    method.apply(contender, m.args).then(result => send({ id: m.id, result }), (err: unknown) => send({ id: m.id, error: String(err) }))
})
process.on('disconnect', () => process.exit(0))
send({ name: contender.name })
