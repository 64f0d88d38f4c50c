/*
    A contender in a process of its own: npm run bench forks one host per contender and calls it over IPC, so
    that each client's CPU is its own process's (no other contender's garbage collected on its time, no JIT
    state shared) while the rounds stay interleaved. The host stays up for the whole run (its code stays warm).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Contender } from './contender.js'

interface Reply { id: number, result?: unknown, error?: string, name?: string }

/** Fork the host of a contender module (bench/lib/<module>.js) and return the contender that calls it. */
export async function hostContender(module: string): Promise<Contender & { stop(): void }> {
    const child: ChildProcess = fork(fileURLToPath(new URL('../contender-host.js', import.meta.url)), [module],
        { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const calls = new Map<number, { resolve(v: unknown): void, reject(e: Error): void }>()
    let next = 0
    let name = ''
    const ready = new Promise<void>((resolve, reject) => {
        child.once('error', reject)
        child.once('exit', code => reject(new Error(`contender host ${module} exited with ${code}`)))
        child.on('message', (m: Reply) => {
            if (m.name !== undefined) {
                name = m.name
                resolve()
                return
            }
            const call = calls.get(m.id)
            calls.delete(m.id)
            if (m.error !== undefined) {
                call?.reject(new Error(`${name}: ${m.error}`))
            } else {
                call?.resolve(m.result)
            }
        })
    })
    child.on('exit', code => {
        for (const c of calls.values()) {
            c.reject(new Error(`contender host ${module} exited with ${code}`))
        }
        calls.clear()
    })
    await ready
    const call = <T>(method: string, ...args: unknown[]): Promise<T> => new Promise<T>((resolve, reject) => {
        const id = ++next
        calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, method, args })
    })
    return {
        name,
        publish: o => call('publish', o),
        receive: o => call('receive', o),
        sequential: o => call('sequential', o),
        idle: (port, count) => call('idle', port, count),
        stop: () => { child.disconnect() },
    }
}
