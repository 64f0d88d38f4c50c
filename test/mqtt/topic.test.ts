import test from 'ava'
import { filterCovers, isUnderPrefix, isValidTopicFilter, isValidTopicName, topicFilterProblem, topicMatches, topicNameProblem, TopicIndex } from '../../mqtt/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

/* Matching table: the examples of MQTT 3.1.1 section 4.7, plus edge cases */
const table: [string, string, boolean][] = [
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['#', '/', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player2', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+', 'finance', true],
    ['#', '$SYS/uptime', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['$SYS/#', '$SYS', true],
    ['ACCOUNTS', 'Accounts', false],
    ['Accounts payable', 'Accounts payable', true],
    ['/', '/', true],
    ['/finance', 'finance', false],
    /* empty levels are levels */
    ['a/+/b', 'a//b', true],
    ['a/b', 'a//b', false],
    ['a/+', 'a/', true],
    ['a/#', 'a/', true],
    ['+/a', '/a', true],
    ['a/b', 'a/b/', false],
    ['a/b/#', 'a/b', true],
    ['a/+/#', 'a/b', true],
    ['a/+/#', 'a', false],
    ['+/+/+', 'a/b/c', true],
    ['+/+/+', 'a/b', false],
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/b/C', false],
    ['数据/+', '数据/温度', true],
]

for (const [filter, topic, expected] of table) {
    test(`"${filter}" ${expected ? 'matches' : 'does not match'} "${topic}"`, t => {
        t.is(topicMatches(filter, topic), expected)
        const index = new TopicIndex<string>()
        index.add(filter, filter)
        t.is(index.match(topic).length, expected ? 1 : 0)
        t.is(index.first(topic)?.value, expected ? filter : undefined)
    })
}

test('topic names and filters are validated with the rule', t => {
    t.true(isValidTopicName('a/b'))
    t.true(isValidTopicName('/'))
    t.true(isValidTopicName('$SYS/x'))
    t.is(topicNameProblem('')!.rule, '[MQTT-4.7.3-1]')
    t.is(topicNameProblem('a/+')!.rule, '[MQTT-3.3.2-2]')
    t.is(topicNameProblem('a/#')!.rule, '[MQTT-3.3.2-2]')
    t.is(topicNameProblem('a\u0000')!.rule, '[MQTT-4.7.3-2]')
    t.is(topicNameProblem('a\udc00')!.rule, '[MQTT-1.5.3-1]')
    t.is(topicNameProblem('x'.repeat(65536))!.rule, '[MQTT-4.7.3-3]')
    t.is(topicNameProblem(42)!.rule, '[MQTT-4.7.3-1]')
    for (const ok of ['#', '+', '+/tennis/#', 'sport/+/player1', 'a//b', '/', '+/+', '$SYS/#']) {
        t.true(isValidTopicFilter(ok), ok)
    }
    for (const [bad, rule] of [['sport/tennis#', '[MQTT-4.7.1-2]'], ['sport/tennis/#/ranking', '[MQTT-4.7.1-2]'], ['sport+', '[MQTT-4.7.1-3]'],
        ['+sport', '[MQTT-4.7.1-3]'], ['a/b+/c', '[MQTT-4.7.1-3]'], ['', '[MQTT-4.7.3-1]'], ['##', '[MQTT-4.7.1-2]']]) {
        t.is(topicFilterProblem(bad)?.rule, rule, bad)
    }
})

test('the index finds every match in subscription order and removes entries', t => {
    const index = new TopicIndex<number>()
    const entries = ['a/#', 'a/b', '+/b', '#', 'a/+', 'a/b'].map((f, i) => index.add(f, i))
    t.is(index.size, 6)
    t.deepEqual(index.match('a/b').map(e => e.value), [0, 1, 2, 3, 4, 5])
    t.is(index.first('a/b')!.value, 0)
    t.true(index.remove(entries[0]))
    t.false(index.remove(entries[0]))
    t.is(index.first('a/b')!.value, 1)
    t.deepEqual(index.match('x/b').map(e => e.value), [2, 3])
    t.deepEqual(index.all().map(e => e.filter), ['a/b', '+/b', '#', 'a/+', 'a/b'])
    for (const e of entries.slice(1)) {
        index.remove(e)
    }
    t.is(index.size, 0)
    t.deepEqual(index.match('a/b'), [])
    index.add('z', 9)
    index.clear()
    t.is(index.size, 0)
})

test('the index finds the entries of one filter by its levels, as a scan of every entry would, through adds and removes', t => {
    const index = new TopicIndex<number>()
    const pool = ['a', 'a/b', 'a/+', '+/b', '#', 'a/#', '+/#', '+', '/', 'a//b', '$share/g/a/b', '$share/h/a/b', '$share/g/#', '$share/g',
        'a/b/#', '$SYS/x']
    let seed = 11
    const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed % n
    }
    const live: ReturnType<typeof index.add>[] = []
    for (let i = 0; i < 3000; i++) {
        if (live.length > 0 && rand(3) === 0) {
            const [e] = live.splice(rand(live.length), 1)
            t.true(index.remove(e))
        } else {
            live.push(index.add(pool[rand(pool.length)], i))
        }
        const f = pool[rand(pool.length)]
        const scan = index.all().filter(e => e.filter === f)
        const found = index.withFilter(f)
        if (found.length !== scan.length || found.some((e, n) => e !== scan[n])) {
            t.fail(`after ${i}: ${f}: found ${found.map(e => e.value)} scan ${scan.map(e => e.value)}`)
            return
        }
    }
    t.is(index.size, live.length)
    t.deepEqual(index.withFilter('not/there'), [])
    t.deepEqual(index.withFilter('a/b/c/#'), [])
})

test('10,000 subscriptions: the index agrees with the matcher on random topics', t => {
    const words = ['a', 'b', 'c', 'dev', '', '$SYS', 'x1']
    let seed = 7
    const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed % n
    }
    const level = () => words[rand(words.length)]
    const filters: string[] = []
    const index = new TopicIndex<number>()
    for (let i = 0; i < 10_000; i++) {
        const parts: string[] = []
        const depth = 1 + rand(4)
        for (let d = 0; d < depth; d++) {
            const r = rand(10)
            parts.push(r === 0 ? '+' : level())
        }
        if (rand(8) === 0) {
            parts.push('#')
        }
        const f = parts.join('/')
        filters.push(f)
        index.add(f, i)
    }
    let checked = 0
    for (let i = 0; i < 2000; i++) {
        const parts: string[] = []
        const depth = 1 + rand(4)
        for (let d = 0; d < depth; d++) {
            parts.push(level())
        }
        const topic = parts.join('/')
        const brute = filters.map((f, n) => topicMatches(f, topic) ? n : -1).filter(n => n >= 0)
        const got = index.match(topic).map(e => e.value)
        if (JSON.stringify(brute) !== JSON.stringify(got)) {
            t.fail(`topic ${topic}: index ${got.slice(0, 5)} brute ${brute.slice(0, 5)}`)
            return
        }
        t.is(index.first(topic)?.value, brute[0])
        checked += brute.length
    }
    t.true(checked > 1000)
})

test('master filters cover local filters level by level', t => {
    t.true(filterCovers('dev/ABC/#', 'dev/ABC/cmd/+'))
    t.true(filterCovers('dev/ABC/#', 'dev/ABC'))
    t.true(filterCovers('dev/ABC/#', 'dev/ABC/#'))
    t.false(filterCovers('dev/AB/#', 'dev/ABC/x'))
    t.true(filterCovers('dev/+', 'dev/x'))
    t.true(filterCovers('dev/+', 'dev/+'))
    t.false(filterCovers('dev/+', 'dev/123/status'))
    t.false(filterCovers('dev/+', 'dev/#'))
    t.false(filterCovers('dev/+', 'dev'))
    t.true(filterCovers('#', 'a/b'))
    t.false(filterCovers('#', '$SYS/x'))
    t.false(filterCovers('+/x', '$S/x'))
    t.false(filterCovers('a/b', 'a/b/c'))
    t.true(isUnderPrefix('ioto/device/ABC/x', 'ioto/device/ABC'))
    t.false(isUnderPrefix('ioto/device/ABCD/x', 'ioto/device/ABC'))
    t.true(isUnderPrefix('ioto/device/ABC', 'ioto/device/ABC'))
})
