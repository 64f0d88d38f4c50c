/*
    Benchmark peers: the sinks (each its own process: in C where a compiler is, and in Node), the broker
    (mosquitto when installed, aedes otherwise) with its CPU time, and the counting subscriber.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mosquittoPath, startAedes, startMosquitto, type Broker } from '../../brokers/broker.js'

const here = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url))

export interface Child {
    port: number
    process: ChildProcess
    stop(): void
}

/** Start a child script that prints "port <n>". */
function startChild(script: string, args: string[] = []): Promise<Child> {
    return startProgram(process.execPath, [here(script), ...args], script)
}

/** Start a program that prints "port <n>" and stops when its standard input closes. */
function startProgram(file: string, args: string[], script: string): Promise<Child> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] })
        let out = ''
        child.stdout!.on('data', (d: Buffer) => {
            out += d.toString()
            const m = /port (\d+)/.exec(out)
            if (m) {
                resolve({ port: Number(m[1]), process: child, stop: () => { child.stdin!.end(); child.kill() } })
            }
        })
        child.once('exit', code => reject(new Error(`${script} exited (${code})`)))
    })
}

export function startSink(): Promise<Child> {
    return startChild('sink')
}

/**
    The C sink (bench/lib/sink.c: it acknowledges what a publisher sends, as the Node sink does, at a fraction of
    its CPU), built with the machine's C compiler into the temporary folder once per version of its source; null
    when there is no compiler (or the source: an installed package), and the Node sink serves instead.
 */
export async function startFastSink(): Promise<Child | null> {
    const source = fileURLToPath(new URL('../../../bench/lib/sink.c', import.meta.url))
    if (!existsSync(source)) {
        return null
    }
    const text = readFileSync(source)
    const bin = join(tmpdir(), `fiber-mqtt-sink-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`)
    if (!existsSync(bin)) {
        const tmp = `${bin}.${process.pid}`
        const built = spawnSync(process.env.CC ?? 'cc', ['-O2', '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] })
        if (built.status !== 0) {
            return null
        }
        renameSync(tmp, bin)
    }
    return startProgram(bin, [], 'sink.c')
}

export async function startBroker(): Promise<Broker> {
    return mosquittoPath() !== null ? startMosquitto() : startAedes()
}

/** CPU milliseconds (user + system) a process has used so far (Linux /proc). */
export function processCpuMs(pid: number): number {
    try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
        /* utime and stime are fields 14 and 15 of stat (11 and 12 after the command name) */
        return (Number(fields[11]) + Number(fields[12])) * 10
    } catch {
        return NaN
    }
}

/** The counting subscriber: resolves "done" with the messages counted and the ms between the first and the last. */
export class Counter {
    private out = ''
    private waiters: ((line: string) => void)[] = []

    private constructor(readonly child: ChildProcess) {
        child.stdout!.on('data', (d: Buffer) => {
            this.out += d.toString()
            let nl: number
            while ((nl = this.out.indexOf('\n')) >= 0) {
                const line = this.out.slice(0, nl)
                this.out = this.out.slice(nl + 1)
                this.waiters.shift()?.(line)
            }
        })
    }

    static async start(brokerPort: number): Promise<Counter> {
        const c = new Counter(spawn(process.execPath, [here('counter'), String(brokerPort)], { stdio: ['pipe', 'pipe', 'inherit'] }))
        const line = await c.next()
        if (line !== 'ready') {
            throw new Error(`counter: ${line}`)
        }
        return c
    }

    next(): Promise<string> {
        return new Promise(resolve => this.waiters.push(resolve))
    }

    /** Tell it how many to expect; resolves when they have all arrived, or after ms with complete false. */
    async expect(n: number, ms: number): Promise<{ complete: boolean }> {
        let resolveDone: (line: string) => void = () => undefined
        const done = new Promise<string>(resolve => { resolveDone = resolve })
        this.waiters.push(resolveDone)
        this.child.stdin!.write(`expect ${n}\n`)
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<string>(resolve => { timer = setTimeout(() => resolve('timeout'), ms) })
        const line = await Promise.race([done, timeout])
        clearTimeout(timer)
        if (line === 'timeout') {
            this.waiters = this.waiters.filter(w => w !== resolveDone)
            return { complete: false }
        }
        return { complete: true }
    }

    stop(): void {
        this.child.stdin!.end()
        this.child.kill()
    }
}
