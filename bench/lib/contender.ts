/*
    What every benchmark contender implements, and how a run is measured.
 */
export interface PublishOptions {
    port: number
    count: number
    qos: number
    size: number
    inflight: number
    topic: string
    /** Publish everything at once: the client's own queue (as long as the run) and in-flight limit pace it */
    burst?: boolean
}

export interface ReceiveOptions {
    port: number
    count: number
    qos: number
    size: number
}

export interface Measure {
    /** messages */
    count: number
    /** wall milliseconds */
    ms: number
    /** client CPU milliseconds (this process) */
    cpuMs: number
    /** per-message latencies (sequential runs) */
    latencies?: number[]
}

export interface Footprint {
    heapPerConn: number
    rssPerConn: number
}

export interface Contender {
    name: string
    publish(o: PublishOptions): Promise<Measure>
    receive(o: ReceiveOptions): Promise<Measure>
    sequential(o: ReceiveOptions): Promise<Measure>
    idle(port: number, count: number): Promise<Footprint>
}

/**
    Time a run: wall and CPU of this process. No collection before it: a forced full collection costs the next
    run ~60 ms of CPU (its code compiled again), far more than the garbage the contender before it left.
 */
export async function measure(count: number, run: () => Promise<number[] | void>): Promise<Measure> {
    const cpu = process.cpuUsage()
    const start = performance.now()
    const latencies = await run()
    const ms = performance.now() - start
    const used = process.cpuUsage(cpu)
    return { count, ms, cpuMs: (used.user + used.system) / 1000, latencies: latencies ?? undefined }
}

export function gc(): void {
    const g = (globalThis as any).gc as (() => void) | undefined
    g?.()
    g?.()
}

/** Heap and RSS per connection for `open` connections, after GC. */
export async function footprint(count: number, open: () => Promise<() => Promise<void>>): Promise<Footprint> {
    gc()
    await new Promise(r => setTimeout(r, 50))
    gc()
    const before = process.memoryUsage()
    const close = await open()
    gc()
    await new Promise(r => setTimeout(r, 50))
    gc()
    const after = process.memoryUsage()
    await close()
    return { heapPerConn: (after.heapUsed - before.heapUsed) / count, rssPerConn: (after.rss - before.rss) / count }
}

/** The contender a module of bench/lib exports (for a process of its own: contender-host.ts, idle-cold.ts). */
export async function loadContender(module: string): Promise<Contender> {
    const exports = await import(`./${module}.js`) as Record<string, unknown>
    return Object.values(exports).find((v): v is Contender => typeof (v as Contender | null)?.idle === 'function')!
}

let ids = 0
export function uniqueId(prefix: string): string {
    return `${prefix}-${process.pid % 10000}-${++ids}`.slice(0, 23)
}
