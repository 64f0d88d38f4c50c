import test from 'ava'
import { Histogram } from '../../bin/bench/histogram.js'
import { readStamp, writeStamp, STAMP_SIZE, wallMs } from '../../bin/bench/stamp.js'
import { addTicks, checkTick, emptyTick, Meter, totalsOf } from '../../bin/bench/meter.js'
import { Series, shareOf } from '../../bin/bench/local.js'
import { parseBenchArgs, parseJoinArgs, fillTopic } from '../../bin/bench/options.js'
import { seriesChart, seriesCsv, summaryOf, summaryText, us } from '../../bin/bench/report.js'
import { UsageError } from '../../bin/args.js'

function exact(values: number[], p: number): number {
    const sorted = values.slice().sort((a, b) => a - b)
    return sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)]
}

test('Histogram: percentiles within 1/64 of the exact ones, from microseconds to days', t => {
    let seed = 7
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (const scale of [50, 5_000, 3_000_000, 2 ** 38]) {
        const h = new Histogram()
        const values: number[] = []
        for (let i = 0; i < 20_000; i++) {
            const v = Math.round(rand() ** 3 * scale)
            values.push(v)
            h.record(v)
        }
        for (const p of [50, 90, 99, 99.9, 100]) {
            const want = exact(values, p)
            const got = h.percentile(p)
            t.true(got >= want && got <= Math.max(want + 1, want * (1 + 1 / 64)), `scale ${scale} p${p}: ${got} for ${want}`)
        }
        t.is(h.max, Math.max(...values))
        t.is(h.count, values.length)
    }
})

test('Histogram: exact below 128 us, powers of two land in their own bucket, negative counts as 0', t => {
    const h = new Histogram()
    for (const v of [0, 1, 127, 128, 255, 256, 2 ** 20, 2 ** 20 - 1, 2 ** 40 - 1, 2 ** 45, -5]) {
        h.record(v)
    }
    t.is(h.percentile(0.001), 0)
    t.is(h.min, 0)
    t.is(h.max, 2 ** 45)
    const one = new Histogram()
    one.record(2 ** 20)
    t.is(one.percentile(50), 2 ** 20)
    const below = new Histogram()
    below.record(2 ** 20 - 1)
    below.record(2 ** 20 - 1)
    t.true(below.percentile(50) <= 2 ** 20 - 1 && below.percentile(50) >= (2 ** 20 - 1) * 63 / 64)
    t.is(new Histogram().percentile(99), 0)
    t.is(new Histogram().mean(), 0)
})

test('Histogram: merges add, reports round-trip, malformed reports are refused', t => {
    const a = new Histogram()
    const b = new Histogram()
    for (let i = 0; i < 1000; i++) a.record(i)
    for (let i = 1000; i < 2000; i++) b.record(i)
    const c = Histogram.from(JSON.parse(JSON.stringify(a.toJSON())))
    c.add(Histogram.from(b.toJSON()))
    t.is(c.count, 2000)
    t.is(c.max, 1999)
    t.is(c.min, 0)
    t.true(Math.abs(c.percentile(50) - 999) <= 999 / 64)
    t.throws(() => Histogram.from({ pairs: [1], count: 1, sum: 0, max: 0, min: 0 }), { instanceOf: TypeError })
    t.throws(() => Histogram.from({ pairs: [99999, 1], count: 1, sum: 0, max: 0, min: 0 }), { instanceOf: TypeError })
    t.throws(() => Histogram.from({ pairs: [1, -1], count: 1, sum: 0, max: 0, min: 0 }), { instanceOf: TypeError })
    t.throws(() => Histogram.from(null as never), { instanceOf: TypeError })
})

test('Stamp: sequence, client and send time travel in the payload; small or foreign payloads have none', t => {
    const payload = new Uint8Array(64)
    const before = wallMs()
    writeStamp(new DataView(payload.buffer), 0xbeef, 123456, 4_000_000_000)
    const s = readStamp(payload, { key: 0, seq: 0, sentMs: 0 })!
    t.is(s.key, 0xbeef * 2 ** 32 + 123456)
    t.is(s.seq, 4_000_000_000)
    t.true(s.sentMs >= before && s.sentMs <= wallMs())
    const small = new Uint8Array(STAMP_SIZE - 1)
    writeStamp(new DataView(small.buffer), 1, 1, 1)
    t.deepEqual([...small], new Array(STAMP_SIZE - 1).fill(0))
    t.is(readStamp(small, { key: 0, seq: 0, sentMs: 0 }), null)
    t.is(readStamp(new Uint8Array(64).fill(65), { key: 0, seq: 0, sentMs: 0 }), null)
})

test('Meter and series: seconds add across sources, totals and peaks follow, malformed ticks are refused', t => {
    const m = new Meter()
    m.up(); m.up(); m.down()
    m.sent = 5
    m.error('x')
    m.connLat.record(1000)
    const t1 = m.take(1)
    t.is(t1.connected, 1)
    t.is(t1.peak, 2)
    t.deepEqual(t1.errors, { x: 1 })
    const t2 = m.take(2)
    t.is(t2.sent, 0)
    t.is(t2.peak, 1)
    t.is(t2.connLat, null)
    const other = { ...emptyTick(1), sent: 7, connected: 3, peak: 3, errors: { x: 2, y: 1 } }
    const s = new Series()
    s.add(t1)
    s.add(JSON.parse(JSON.stringify(other)))
    s.add({ ...emptyTick(3), received: 4 })
    t.is(s.list().length, 3)
    t.is(s.at(1)!.sent, 12)
    t.deepEqual(s.at(1)!.errors, { x: 3, y: 1 })
    t.is(s.at(2)!.sent, 0)
    const total = totalsOf(s.list())
    t.is(total.sent, 12)
    t.is(total.received, 4)
    t.is(total.peakConnected, 5)
    t.is(total.connLat.count, 1)
    t.is(addTicks(t1, other).connected, 4)
    t.throws(() => checkTick({ second: 1 }), { instanceOf: TypeError })
    t.throws(() => checkTick({ ...emptyTick(1), sent: -1 }), { instanceOf: TypeError })
    t.throws(() => checkTick({ ...emptyTick(1), errors: null }), { instanceOf: TypeError })
    t.throws(() => checkTick({ ...emptyTick(1), e2eLat: { pairs: 'x' } }), { instanceOf: TypeError })
    t.throws(() => checkTick(null), { instanceOf: TypeError })
    t.is(checkTick(JSON.parse(JSON.stringify(t1))).sent, 5)
})

test('Shares: every client in exactly one part, parts differ by at most one', t => {
    for (const [count, parts] of [[10, 3], [1, 4], [1000, 7], [5, 5]]) {
        let next = 100
        const sizes: number[] = []
        for (let k = 0; k < parts; k++) {
            const s = shareOf(100, count, k, parts)
            t.is(s.first, next)
            next += s.count
            sizes.push(s.count)
        }
        t.is(next, 100 + count)
        t.true(Math.max(...sizes) - Math.min(...sizes) <= 1)
    }
})

test('Options: emqtt-bench letters, defaults, URLs and clear errors', t => {
    const o = parseBenchArgs(['pub', '-h', '10.0.0.1', '-c', '50', '-i', '2', '-I', '0', '-q', '2', '-s', '100', '-t', 'x/%i/%c/%u',
        '-u', 'user%i', '-L', '1000', '-F', '8', '-r', '-w', '3', '-d', '9', '--ifaddr', '127.0.0.2, 127.0.0.3', '--json', '-C', 'false'])
    t.like(o, { mode: 'pub', host: '10.0.0.1', port: 1883, count: 50, interval: 2, pubInterval: 0, qos: 2, size: 100, limit: 1000,
        inflight: 8, retain: true, workers: 3, duration: 9, json: true, clean: false })
    t.deepEqual(o.ifaddr, ['127.0.0.2', '127.0.0.3'])
    t.is(fillTopic(o.topic, 7, 'id7', 'u7'), 'x/7/id7/u7')
    t.like(parseBenchArgs(['sub', '--url', 'mqtts://a:b@broker:9999/t/#']), { host: 'broker', port: 9999, tls: true, username: 'a', password: 'b', topic: 't/#' })
    t.like(parseBenchArgs(['conn', '-S']), { port: 8883, tls: true })
    t.like(parseBenchArgs(['sub']), { topic: 'bench/#', count: 200, interval: 10, size: 256, coalesce: 0 })
    t.like(parseBenchArgs(['sub', '--coalesce', '2']), { coalesce: 2 })
    const bad: [string[], RegExp][] = [
        [['flood'], /Unknown bench mode 'flood'/],
        [['pub', '-q', '3'], /-q must be an integer from 0 to 2/],
        [['pub', '-c'], /-c needs a value/],
        [['pub', '-t', 'a/#'], /Bad topic 'a\/#'/],
        [['sub', '-t', 'a/#/b'], /Bad topic/],
        [['pub', '--ifaddr', 'nothere'], /--ifaddr takes IP addresses/],
        [['pub', '--url', 'http://x'], /http/],
        [['pub', '--certfile', 'c.pem'], /--certfile needs --keyfile/],
        [['pub', '-S', '--cafile', '/nonexistent/ca.pem'], /Cannot read --cafile \/nonexistent\/ca.pem: ENOENT/],
        [['pub', '-C', 'maybe'], /true or false/],
        [['pub', '--run', 'a/b'], /--run takes a name/],
        [['pub', '--nope'], /Unknown option '--nope'/],
        [['sub', '--coalesce', '1001'], /--coalesce/],
        [['sub', '--coalesce', 'soon'], /--coalesce/],
    ]
    for (const [argv, message] of bad) {
        t.throws(() => parseBenchArgs(argv), { instanceOf: UsageError, message }, argv.join(' '))
    }
    t.like(parseJoinArgs(['join', '--run', 'r1', '-h', 'b', '-p', '1', '-w', '2', '--json']), { run: 'r1', host: 'b', port: 1, target: true, workers: 2, json: true })
    t.throws(() => parseJoinArgs(['join', '-c', '5']), { instanceOf: UsageError, message: /Unknown option '-c'/ })
    t.throws(() => parseJoinArgs(['join', '--run']), { instanceOf: UsageError, message: /needs a value/ })
})

test('Reports: text, CSV and SVG from one series', t => {
    const o = parseBenchArgs(['sub', '-c', '2'])
    const m = new Meter()
    m.up()
    m.connects = 1
    m.received = 10
    m.gaps = 2
    for (let i = 1; i <= 10; i++) m.e2eLat.record(i * 1000)
    m.error('connection lost')
    const series = [m.take(1), m.take(2)]
    const s = summaryOf(o, series, 2) as Record<string, any>
    t.is(s.received, 10)
    t.is(s.receiveRate, 10)
    t.true(s.latencyUs.p50 >= 5000 && s.latencyUs.p50 <= 5000 * 65 / 64, String(s.latencyUs.p50))
    t.is(s.latencyUs.max, 10000)
    const text = summaryText(s)
    t.regex(text, /received: 10 \(10\/s\), 0 duplicates, 2 missing in sequence/)
    t.regex(text, /end-to-end latency: p50 5\.[01]ms .* max 10\.0ms/)
    t.regex(text, /errors: connection lost x1/)
    const csv = seriesCsv(series).trim().split('\n')
    t.is(csv.length, 3)
    t.is(csv[0].split(',').length, csv[1].split(',').length)
    t.regex(csv[1], /^1,1,1,0,0,0,10,0,2,1,50\d\d,10000$/)
    const svg = seriesChart('a <b>', series)
    t.regex(svg, /^<svg [^>]*>/)
    t.regex(svg, /a &lt;b&gt;/)
    t.is((svg.match(/<polyline/g) ?? []).length, 6)
    t.is(us(999), '999us')
    t.is(us(1500), '1.5ms')
    t.is(us(2_500_000), '2.50s')
})
