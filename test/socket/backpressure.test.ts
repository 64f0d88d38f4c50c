import test from 'ava'
import { rGetTicks, rSleep, rSpawnFiber } from '../../runtime/index.js'
import { rAllocSocket, rCloseSocket, rConnectSocket, rReadSocket, rWriteSocket, type RSocket } from '../../socket/index.js'
import { inFiber } from '../helpers/fiber.js'
import { listen, sha } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('a reader that pauses makes the writer fiber wait; nothing is lost or reordered', async t => {
    const CHUNK = 64 * 1024
    const COUNT = 512
    const result = await inFiber<{ sent: string, received: string, writtenBeforeRead: number, waits: number }>(function* () {
        let received = ''
        let readerStarted = false
        let finished = false
        const { listener, port } = yield* listen(function* (_arg: unknown, sp: RSocket) {
            yield* rSleep(300)
            readerStarted = true
            const hash = sha()
            const buf = new Uint8Array(CHUNK)
            let got = 0
            while (got < CHUNK * COUNT) {
                const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 10_000)
                if (n <= 0) {
                    break
                }
                hash.update(buf.subarray(0, n))
                got += n
            }
            received = hash.digest('hex')
            finished = true
            rCloseSocket(sp)
        })
        const sp = rAllocSocket()
        yield* rConnectSocket(sp, '127.0.0.1', port, 0)
        const hash = sha()
        let writtenBeforeRead = 0
        let waits = 0
        let ticks = 0
        rSpawnFiber('other', function* () {
            while (!finished) {
                ticks++
                yield* rSleep(5)
            }
        })
        for (let i = 0; i < COUNT; i++) {
            const chunk = new Uint8Array(CHUNK)
            new DataView(chunk.buffer).setUint32(0, i)
            chunk.fill(i & 0xff, 4)
            hash.update(chunk)
            const w = rWriteSocket(sp, chunk, CHUNK, rGetTicks() + 20_000)
            if (!(w as any).settled) {
                waits++
            }
            t.is(yield* w, CHUNK)
            if (!readerStarted) {
                writtenBeforeRead++
            }
        }
        while (!finished) {
            yield* rSleep(5)
        }
        t.true(ticks > 10, 'other fibers ran while the writer waited')
        rCloseSocket(sp)
        rCloseSocket(listener)
        return { sent: hash.digest('hex'), received, writtenBeforeRead, waits }
    })
    t.is(result.received, result.sent)
    t.true(result.writtenBeforeRead < 512, `wrote ${result.writtenBeforeRead} chunks before the reader started`)
    t.true(result.waits > 0)
})
