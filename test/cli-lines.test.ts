import test from 'ava'
import { linesOf } from '../bin/lines.js'

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
    for (const p of parts) {
        yield Buffer.from(p)
    }
}

async function all(source: AsyncIterable<Buffer>): Promise<string[][]> {
    const out: string[][] = []
    for await (const lines of linesOf(source)) {
        out.push(lines.map(l => l.toString()))
    }
    return out
}

test('pub -l lines: the whole lines of each read together, split on \\n only, a line across reads joined, the last one unterminated', async t => {
    t.deepEqual(await all(chunks('a\nb\r\n', 'c', 'd', '\n\ne', 'f')), [['a', 'b\r'], ['cd', ''], ['ef']])
    t.deepEqual(await all(chunks('', '\n', 'x\n')), [[''], ['x']])
    t.deepEqual(await all(chunks()), [])
})

test('pub -l lines: a line of 8 MiB read in 64 KiB pieces comes whole, once, between its neighbours', async t => {
    const piece = 'y'.repeat(64 * 1024)
    const parts = ['before\n', ...Array.from({ length: 128 }, () => piece), '\nafter']
    const got = await all(chunks(...parts))
    t.is(got.length, 3)
    t.deepEqual(got[0], ['before'])
    t.is(got[1].length, 1)
    t.is(got[1][0].length, 128 * 64 * 1024)
    t.true(got[1][0] === piece.repeat(128))
    t.deepEqual(got[2], ['after'])
})
