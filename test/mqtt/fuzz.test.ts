import test from 'ava'
import { fuzz, fuzzClientDecoder } from './fuzz-lib.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

for (const [decoder, seed, client] of [['', 99, false], [' (the client\'s decoder: what a broker sends)', 98, true]] as const) {
    test(`fuzz: 100,000 random and mutated inputs${decoder} throw only codec errors, end, and stay under the maximum`, t => {
        const r = fuzz(100_000, seed, 4096, client)
        t.is(r.failure, null)
        t.is(r.cases, 100_000)
        t.true(r.rejected > 10_000, `rejected ${r.rejected}`)
        t.true(r.packets > 10_000, `decoded ${r.packets}`)
        t.true(r.maxHeld <= 4096)
    })
}

test('fuzz: the client\'s decoder reads 100,000 random and mutated inputs as the full one does, packet for packet and error for error', t => {
    const r = fuzzClientDecoder(100_000, 97)
    t.is(r.failure, null)
    t.is(r.cases, 100_000)
    /* Nearly all inputs compare whole: only a refused body of a CONNECT, SUBSCRIBE or UNSUBSCRIBE ends a comparison early */
    t.true(r.compared > 80_000, `compared ${r.compared}`)
    t.true(r.rejected > 10_000 && r.packets > 10_000, `rejected ${r.rejected}, decoded ${r.packets}`)
})
