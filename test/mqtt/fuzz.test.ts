import test from 'ava'
import { fuzz } from './fuzz-lib.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('fuzz: 100,000 random and mutated inputs throw only codec errors, end, and stay under the maximum', t => {
    const r = fuzz(100_000, 99)
    t.is(r.failure, null)
    t.is(r.cases, 100_000)
    t.true(r.rejected > 10_000, `rejected ${r.rejected}`)
    t.true(r.packets > 10_000, `decoded ${r.packets}`)
    t.true(r.maxHeld <= 4096)
})
