import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { rGetError, R_ERR_NOT_CONNECTED, R_ERR_OK, R_ERR_MAX, R_ERR_TIMEOUT, TPS, MAXTIME, rGetTime, rGetElapsedTicks, rGetRemainingTicks, rGetTicks } from '../../runtime/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const runtime = fileURLToPath(new URL('../../runtime/index.js', import.meta.url))

function run(code: string) {
    const start = Date.now()
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as R from ${JSON.stringify(runtime)}\n${code}`], {
        encoding: 'utf8', timeout: 20_000,
    })
    return { ...r, elapsed: Date.now() - start }
}

test('rServiceEvents settles after rStop and pending timers are cleared', t => {
    const r = run(`
        R.rInit(function* () {
            R.rStartEvent(() => console.log('never'), null, 3600 * 1000)
            yield* R.rSleep(10)
            R.rStop()
        })
        const state = await R.rServiceEvents()
        console.log('state', state, R.rGetState() === R.R_STOPPED)
    `)
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), 'state 4 true')
    t.true(r.elapsed < 15_000)
})

test('a program whose fibers are all done exits by itself', t => {
    const r = run(`
        R.rInit(function* (arg) {
            yield* R.rSleep(20)
            console.log('main done', arg)
        }, 'x')
        const state = await R.rServiceEvents()
        console.log('service returned', state)
        R.rTerm()
    `)
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), 'main done x\nservice returned 4')
})

test('rGracefulStop stops too, and rTerm cancels live fibers so their finally blocks run', t => {
    const r = run(`
        R.rInit(function* () {
            R.rSpawnFiber('holder', function* () {
                try { yield* R.rSleep(3600 * 1000) } finally { console.log('holder cleaned') }
            })
            yield* R.rSleep(5)
            R.rGracefulStop()
        })
        console.log('state', await R.rServiceEvents())
        R.rTerm()
        await new Promise(r => setTimeout(r, 10))
        console.log('after term', R.rGetState(), R.rGetFiberStats().active)
        console.log(R.rInit(42), R.rInit(null))
    `)
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), 'state 3\nholder cleaned\nafter term 0 0\n-6 0')
})

test('a parked fiber with nothing to wake it does not hang the process', t => {
    const r = run(`
        R.rInit(function* () { yield* R.rYieldFiber() })
        console.log('state', await R.rServiceEvents())
    `)
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), 'state 4')
})

test('rServiceEvents after a stop resolves at once', t => {
    const r = run(`
        R.rStop()
        console.log(await R.rServiceEvents())
    `)
    t.is(r.stdout.trim(), '4')
})

test('error codes and names match C', t => {
    t.is(R_ERR_OK, 0)
    t.is(R_ERR_NOT_CONNECTED, -34)
    t.is(R_ERR_TIMEOUT, -38)
    t.is(R_ERR_MAX, -42)
    t.is(rGetError(R_ERR_NOT_CONNECTED), 'R_ERR_NOT_CONNECTED')
    t.is(rGetError(0), 'R_ERR_OK')
    t.is(rGetError(-99), 'Unknown error')
    t.is(rGetError(1), 'Unknown error')
})

test('time: monotonic ticks, wall time, helpers', t => {
    t.is(TPS, 1000)
    t.true(MAXTIME > 2 ** 52)
    const mark = rGetTicks()
    t.true(Math.abs(rGetTime() - Date.now()) < 1000)
    t.true(rGetElapsedTicks(mark) >= 0)
    t.is(rGetRemainingTicks(mark - 10_000, 1000), 0)
    t.true(rGetRemainingTicks(mark, 10_000) > 9000)
})

test('a pending deadline keeps the process alive until it passes, like a sleep', t => {
    const r = run(`
        const rc = await R.rAwaitWaitable(R.rDeadline(new R.Wait(), R.rGetTicks() + 50))
        console.log('deadline', rc)
    `)
    t.is(r.status, 0, r.stderr)
    t.is(r.stdout.trim(), `deadline ${R_ERR_TIMEOUT}`)
})
