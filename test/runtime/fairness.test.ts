import test from 'ava'
import { createServer, connect } from 'node:net'
import { rAllocFiber, rGetFiber, rResumeFiber, rStartFiber, rYieldFiber, type RFiber } from '../../runtime/index.js'

/* Two fibers that keep resuming each other: the run queue never empties until they stop */
function pingPong(rounds: number): { done: Promise<number>, switches: () => number } {
    let n = 0
    let finish: (n: number) => void = () => undefined
    const done = new Promise<number>(resolve => { finish = resolve })
    function* pong(ping: RFiber): Generator<unknown, void, unknown> {
        for (;;) {
            rResumeFiber(ping, 0)
            if ((yield* rYieldFiber()) === null) return
        }
    }
    function* ping(): Generator<unknown, void, unknown> {
        const other = rAllocFiber('pong', pong, rGetFiber())!
        rStartFiber(other)
        for (; n < rounds; n++) {
            yield* rYieldFiber()
            rResumeFiber(other, n)
        }
        yield* rYieldFiber()
        rResumeFiber(other, null)
        finish(n)
    }
    rStartFiber(rAllocFiber('ping', ping)!)
    return { done, switches: () => n }
}

test('fibers that keep resuming each other let timers and socket reads run in between (the run queue yields every few ms)', async t => {
    /* A socket pair whose data arrives while the fibers run */
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const accepted = new Promise<import('node:net').Socket>(resolve => server.once('connection', resolve))
    const client = connect(port, '127.0.0.1')
    await new Promise(resolve => client.once('connect', resolve))
    const peer = await accepted
    const ROUNDS = 2_000_000
    const run = pingPong(ROUNDS)
    let timerAt = -1
    let readAt = -1
    setTimeout(() => { timerAt = run.switches() }, 0)
    peer.once('data', () => { readAt = run.switches() })
    client.write('x')
    t.is(await run.done, ROUNDS)
    /* Both came while the fibers were still at it, not after them */
    t.true(timerAt >= 0 && timerAt < ROUNDS, `timer ran after ${timerAt} of ${ROUNDS} round trips`)
    t.true(readAt >= 0 && readAt < ROUNDS, `read ran after ${readAt} of ${ROUNDS} round trips`)
    client.destroy()
    peer.destroy()
    server.close()
})
