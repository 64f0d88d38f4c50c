/*
    One process's share of a bench run: its clients, each on a fiber of its own (connect, then hold, publish
    or subscribe), and a ticker that hands the Meter's counts out once a second. Clients connect on one
    schedule for the whole run (client g at start + g * interval, whichever process it is in), so a run of
    many workers or machines ramps up at the rate asked, without a thundering herd.
 */
import { hostname } from 'node:os'
import { readFileSync } from 'node:fs'
import {
    mqttAlloc, mqttConnect, mqttDisconnect, mqttFree, mqttGetConnackCode, mqttGetError, mqttGetStats, mqttIsConnected,
    mqttPublish, mqttPublishRetained, mqttSetCoalesce, mqttSetConnectTimeout, mqttSetCredentials, mqttSetInflight, mqttSetKeepAlive,
    mqttSetQueue, mqttSubscribe, mqttGetGranted, MQTT_CONNECT_CLEAN_SESSION, MQTT_EVENT_DISCONNECT, MQTT_WAIT_ACK,
    MQTT_WAIT_NONE, type Mqtt, type MqttRecv,
} from '../../mqtt/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketError, rSetSocketBind, rSetSocketCerts, rSetTls, rSetTlsAlpn,
    rSetTlsHostCheck, rSetWebSocket,
} from '../../socket/index.js'
import { rGetTicks, rSleep, rSpawnFiber, Wait, R_ERR_CANT_COMPLETE, R_ERR_TIMEOUT, type Fiber } from '../../runtime/index.js'
import { clientIdOf, fillTopic, type BenchOptions } from './options.js'
import { Meter, type Tick } from './meter.js'
import { readStamp, wallMs, writeStamp, type Stamp } from './stamp.js'

export interface SourcePlan {
    options: BenchOptions
    /** This source's clients: global indexes first .. first + count - 1 */
    first: number
    count: number
    /** When the run starts (ms since the epoch; every source of the run shares it) */
    startMs: number
    /** Marks this source's payloads (random) */
    origin: number
}

const REFUSED = ['', 'unacceptable protocol version', 'identifier rejected', 'broker unavailable', 'bad user name or password', 'not authorised']
const CONNECT_TIMEOUT = 30_000
const DRAIN_TIMEOUT = 10_000

/** What a source used: CPU (user + system) and the growth of heap and resident memory at their peak. */
export interface Resources {
    cpuMs: number
    heapBytes: number
    rssBytes: number
}

export function addResources(a: Resources, b: Resources): Resources {
    return { cpuMs: a.cpuMs + b.cpuMs, heapBytes: a.heapBytes + b.heapBytes, rssBytes: a.rssBytes + b.rssBytes }
}

export function checkResources(x: unknown): Resources {
    const r = x as Resources
    if (r === null || typeof r !== 'object' || ![r.cpuMs, r.heapBytes, r.rssBytes].every(v => typeof v === 'number' && Number.isFinite(v))) {
        throw new TypeError('Malformed resource figures')
    }
    return r
}

/** The clients' shared stop: set once, every waiter woken. */
class Gate {
    stopped = false
    private waits: Wait<number>[] = []

    stop(): void {
        if (!this.stopped) {
            this.stopped = true
            for (const w of this.waits.splice(0)) {
                w.settle(0)
            }
        }
    }

    *wait(): Fiber<void> {
        if (!this.stopped) {
            const w = new Wait<number>()
            this.waits.push(w)
            yield* w
        }
    }
}

/** The clients of one process, run to the end: ticks go to emit; stop() ends the run early. */
export class Source {
    readonly meter = new Meter()
    private readonly gate = new Gate()
    private readonly clients: Mqtt[] = []
    private readonly acked = new Map<Mqtt, number>()
    private running = 0
    private launched = false
    private ended = new Wait<number>()
    private ticked = new Wait<number>()
    private tls: { ca: string | null, key: string | null, cert: string | null } | null = null
    private readonly cpu0 = process.cpuUsage()
    private readonly mem0 = process.memoryUsage()
    private peakHeap = 0
    private peakRss = 0

    constructor(readonly plan: SourcePlan, private readonly emit: (tick: Tick) => void) {
        const o = plan.options
        if (o.tls) {
            this.tls = { ca: o.cafile, key: o.keyfile, cert: o.certfile }
            /* Read once here (a missing file is one clear error, not one per client) */
            for (const f of [o.cafile, o.keyfile, o.certfile]) {
                if (f !== null) readFileSync(f)
            }
        }
    }

    stop(): void {
        this.gate.stop()
    }

    /** Run every client to the end of the run, ticking each second; the last tick is the partial last second. */
    *run(): Fiber<void> {
        const o = this.plan.options
        rSpawnFiber('bench-ticker', () => this.ticker())
        if (o.duration > 0) {
            rSpawnFiber('bench-duration', () => this.timer(this.plan.startMs + o.duration * 1000))
        }
        yield* this.untilMs(this.plan.startMs)
        for (let i = 0; i < this.plan.count && !this.gate.stopped; i++) {
            const g = this.plan.first + i
            yield* this.untilMs(this.plan.startMs + g * o.interval)
            if (this.gate.stopped) {
                break
            }
            this.running++
            rSpawnFiber(`bench-${g}`, () => this.client(g))
        }
        this.launched = true
        if (this.running > 0) {
            yield* this.ended
        }
        this.stop()
        /* The last tick (the partial last second) is out before the run is over */
        yield* this.ticked
    }

    /** The second now running (1: the first) */
    private second(): number {
        return Math.max(0, Math.floor((wallMs() - this.plan.startMs) / 1000)) + 1
    }

    private *ticker(): Fiber<void> {
        let k = 1
        yield* this.untilMs(this.plan.startMs)
        while (!this.finished()) {
            yield* this.untilMs(this.plan.startMs + k * 1000, true)
            if (this.finished()) {
                break
            }
            this.emit(this.take(k++))
        }
        this.emit(this.take(Math.max(k, this.second())))
        this.ticked.settle(0)
    }

    private finished(): boolean {
        return this.launched && this.running === 0
    }

    /** CPU used so far and memory growth at its peak (sampled each second; with --expose-gc, after a collection in conn runs) */
    resources(): Resources {
        const cpu = process.cpuUsage(this.cpu0)
        return { cpuMs: (cpu.user + cpu.system) / 1000, heapBytes: Math.max(0, this.peakHeap), rssBytes: Math.max(0, this.peakRss) }
    }

    private sample(): void {
        if (this.plan.options.mode === 'conn') {
            (globalThis as { gc?: () => void }).gc?.()
        }
        const m = process.memoryUsage()
        this.peakHeap = Math.max(this.peakHeap, m.heapUsed - this.mem0.heapUsed)
        this.peakRss = Math.max(this.peakRss, m.rss - this.mem0.rss)
    }

    private take(second: number): Tick {
        this.sample()
        /* Acknowledgements are counted from each publisher's stats */
        for (const [mq, before] of this.acked) {
            const now = mqttGetStats(mq).acknowledged
            this.meter.acked += now - before
            this.acked.set(mq, now)
        }
        return this.meter.take(second)
    }

    private *timer(atMs: number): Fiber<void> {
        yield* this.untilMs(atMs)
        this.stop()
    }

    /** Sleep until a wall-clock time, waking at least every 250 ms to see a stop (unless told to ignore it). */
    private *untilMs(atMs: number, throughStop = false): Fiber<void> {
        for (;;) {
            const left = atMs - wallMs()
            if (left <= 0 || (this.gate.stopped && !throughStop) || (throughStop && this.finished())) {
                return
            }
            yield* rSleep(Math.min(250, Math.ceil(left)))
        }
    }

    private *client(g: number): Fiber<void> {
        const o = this.plan.options
        const n = o.startNumber + g
        const id = clientIdOf(o, n)
        const user = o.username === null ? null : o.username.replace(/%i/g, String(n))
        let up = false
        const meter = this.meter
        const mq = mqttAlloc(id, (_mq: Mqtt, event: number) => {
            if (event === MQTT_EVENT_DISCONNECT && up) {
                up = false
                meter.down()
                if (!this.gate.stopped) {
                    meter.error('connection lost')
                }
            }
        })
        try {
            if (mq === null) {
                meter.failures++
                meter.error('bad client id')
                return
            }
            mqttSetCoalesce(mq, o.coalesce)
            if (!(yield* this.connect(mq, g, user))) {
                return
            }
            up = true
            meter.up()
            this.clients.push(mq)
            const topic = fillTopic(o.topic, n, id, user ?? '')
            if (o.mode === 'pub') {
                yield* this.publisher(mq, g, n, topic)
            } else if (o.mode === 'sub') {
                if (yield* this.subscriber(mq, topic)) {
                    yield* this.gate.wait()
                }
            } else {
                yield* this.gate.wait()
            }
        } finally {
            if (mq !== null) {
                if (up) {
                    up = false
                    meter.down()
                }
                mqttDisconnect(mq)
                yield* mqttFree(mq)
                rCloseSocket(mq.sock)
            }
            if (--this.running === 0 && this.launched) {
                this.ended.settle(0)
            }
        }
    }

    private *connect(mq: Mqtt, g: number, user: string | null): Fiber<boolean> {
        const o = this.plan.options
        const meter = this.meter
        mqttSetKeepAlive(mq, o.keepAlive * 1000)
        mqttSetConnectTimeout(mq, CONNECT_TIMEOUT)
        if (user !== null && mqttSetCredentials(mq, user, o.password) !== 0) {
            meter.failures++
            meter.error(`bad credentials: ${mqttGetError(mq)}`)
            return false
        }
        const sock = rAllocSocket()
        if (o.ifaddr.length > 0) {
            rSetSocketBind(sock, o.ifaddr[g % o.ifaddr.length])
        }
        if (o.websocket !== null) {
            rSetWebSocket(sock, o.websocket)
        }
        if (this.tls !== null) {
            rSetTls(sock)
            rSetSocketCerts(sock, this.tls.ca, this.tls.key, this.tls.cert, null)
            if (o.insecure) rSetTlsHostCheck(sock, false)
            if (o.alpn !== null) rSetTlsAlpn(sock, o.alpn)
        }
        const t0 = wallMs()
        const rc = yield* rConnectSocket(sock, o.host, o.port, rGetTicks() + CONNECT_TIMEOUT)
        if (rc !== 0) {
            meter.failures++
            meter.error(socketReason(rc, rGetSocketError(sock) ?? ''))
            rCloseSocket(sock)
            return false
        }
        const crc = yield* mqttConnect(mq, sock, o.clean ? MQTT_CONNECT_CLEAN_SESSION : 0, MQTT_WAIT_ACK)
        if (crc !== 0) {
            const code = mqttGetConnackCode(mq)
            meter.failures++
            meter.error(code > 0 ? `refused: ${REFUSED[code] ?? `code ${code}`}` : crc === R_ERR_TIMEOUT ? 'no CONNACK' : 'connection lost during connect')
            rCloseSocket(sock)
            return false
        }
        meter.connects++
        meter.connLat.record((wallMs() - t0) * 1000)
        return true
    }

    private *publisher(mq: Mqtt, g: number, n: number, topic: string): Fiber<void> {
        const o = this.plan.options
        const meter = this.meter
        mqttSetInflight(mq, o.inflight)
        mqttSetQueue(mq, o.inflight, 64 * 1024 * 1024, 'wait')
        this.acked.set(mq, 0)
        /* Client g's share of the limit */
        const quota = o.limit === 0 ? Infinity : Math.floor(o.limit / o.count) + (g < o.limit % o.count ? 1 : 0)
        const payload = new Uint8Array(o.size)
        const view = new DataView(payload.buffer)
        const publish = o.retain ? mqttPublishRetained : mqttPublish
        const t0 = wallMs()
        let seq = 0
        while (!this.gate.stopped && seq < quota) {
            writeStamp(view, this.plan.origin, n, seq)
            const rc = yield* publish(mq, payload, o.size, o.qos, MQTT_WAIT_NONE, topic)
            if (rc < 0) {
                meter.error(`publish: ${mqttGetError(mq) || `error ${rc}`}`)
                if (!mqttIsConnected(mq)) {
                    return
                }
            } else {
                meter.sent++
                meter.message(wallMs())
            }
            seq++
            if (o.pubInterval > 0) {
                yield* this.untilMs(t0 + seq * o.pubInterval)
            } else if ((seq & (o.qos === 0 ? 31 : 1023)) === 0) {
                /* Fair to the other clients and to reading (QoS 1/2 wait for the window anyway: rarely) */
                yield* rSleep(0)
            }
        }
        yield* this.published(mq)
    }

    /* After a publisher's loop (a method of its own: the loop's optimized code stays small and is not thrown away
       when the loop ends): wait for the acknowledgements of what was published (bounded), or for the stop */
    private *published(mq: Mqtt): Fiber<void> {
        if (this.plan.options.qos > 0) {
            const deadline = rGetTicks() + DRAIN_TIMEOUT
            for (let st = mqttGetStats(mq); mqttIsConnected(mq) && st.inflight + st.queued > 0 && rGetTicks() < deadline; st = mqttGetStats(mq)) {
                yield* rSleep(20)
            }
        }
        if (this.plan.options.limit === 0) {
            yield* this.gate.wait()
        }
    }

    /** Subscribe with a counting handler; false when the broker refuses. */
    private *subscriber(mq: Mqtt, topic: string): Fiber<boolean> {
        const o = this.plan.options
        const meter = this.meter
        const last = new Map<number, number>()
        const stamp: Stamp = { key: 0, seq: 0, sentMs: 0 }
        const rc = yield* mqttSubscribe(mq, (rp: MqttRecv) => {
            meter.received++
            const now = wallMs()
            meter.message(now)
            const s = readStamp(rp.data, stamp)
            if (s === null) {
                return
            }
            meter.e2eLat.record((now - s.sentMs) * 1000)
            const prev = last.get(s.key)
            if (prev === undefined || s.seq > prev) {
                if (prev !== undefined && s.seq > prev + 1) {
                    meter.gaps += s.seq - prev - 1
                }
                last.set(s.key, s.seq)
            } else {
                meter.dups++
            }
        }, o.qos, MQTT_WAIT_ACK, topic)
        if (rc < 0) {
            meter.error(`subscribe: ${mqttGetError(mq) || `error ${rc}`}`)
            return false
        }
        const granted = mqttGetGranted(mq, topic)
        if (granted === 0x80) {
            meter.error('subscribe refused')
            return false
        }
        meter.subscribed++
        return true
    }
}

function socketReason(rc: number, text: string): string {
    if (/refused/i.test(text)) return 'connection refused'
    if (/EADDRNOTAVAIL/.test(text)) return 'local address not available'
    if (/EMFILE|ENFILE/.test(text)) return 'too many open files'
    if (/ENOTFOUND|EAI_AGAIN|find the address/i.test(text)) return 'host not found'
    if (rc === R_ERR_TIMEOUT || /timed? ?out/i.test(text)) return 'connect timeout'
    if (rc === R_ERR_CANT_COMPLETE) return `TLS: ${text}`
    return text || `error ${rc}`
}

export const HOST = hostname()
