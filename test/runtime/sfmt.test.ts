import test from 'ava'
import { sfmt } from '../../runtime/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

/* Expected strings are what glibc's printf prints for the same format and arguments */
const cases: [string, unknown[], string][] = [
    ['%d', [42], '42'],
    ['%5d', [42], '   42'],
    ['%-5d', [42], '42   '],
    ['%05d', [-42], '-0042'],
    ['%+d', [42], '+42'],
    ['% d', [42], ' 42'],
    ['%.3d', [7], '007'],
    ['%8.3d', [-7], '    -007'],
    ['%i', [3.9], '3'],
    ['%x', [255], 'ff'],
    ['%#X', [255], '0XFF'],
    ['%#o', [8], '010'],
    ['%u', [-1], '4294967295'],
    ['%lu', [-1], '18446744073709551615'],
    ['%x', [-1], 'ffffffff'],
    ['%lld', [1234567890123], '1234567890123'],
    ['%lld', [12345678901234567890n], '12345678901234567890'],
    ['%s', ['hi'], 'hi'],
    ['%10s', ['hi'], '        hi'],
    ['%-10s', ['hi'], 'hi        '],
    ['%.2s', ['hello'], 'he'],
    ['%s', [null], 'null'],
    ['%s', [undefined], 'null'],
    ['%s', [new TextEncoder().encode('bytes')], 'bytes'],
    ['%*d', [6, 3], '     3'],
    ['%-*d', [6, 3], '3     '],
    ['%*d', [-6, 3], '3     '],
    ['%.*f', [2, 3.14159], '3.14'],
    ['%f', [3.14159], '3.141590'],
    ['%#.0f', [3.0], '3.'],
    ['%e', [12345.678], '1.234568e+04'],
    ['%E', [0.000123], '1.230000E-04'],
    ['%g', [0.0001], '0.0001'],
    ['%g', [100000], '100000'],
    ['%g', [1000000], '1e+06'],
    ['%g', [3.14159], '3.14159'],
    ['%G', [1e-10], '1E-10'],
    ['%#g', [1.0], '1.00000'],
    ['%.3g', [1234.5], '1.23e+03'],
    ['%g', [0], '0'],
    ['%5.1e', [0], '0.0e+00'],
    ['%10.3f', [-3.14159], '    -3.142'],
    ['%010.3f', [-3.14159], '-00003.142'],
    ['%f', [Infinity], 'inf'],
    ['%F', [NaN], 'NAN'],
    ['%c', [65], 'A'],
    ['%c', ['xyz'], 'x'],
    ['100%%', [], '100%'],
    ['%hd %ld %zd', [1, 2, 3], '1 2 3'],
    ['%.0d', [0], ''],
    ['%#x', [0], '0'],
    ["%'d", [1234567], '1,234,567'],
    ['%,.2f', [1234567.891], '1,234,567.89'],
    ['%d%%', [50], '50%'],
    ['no directives', [], 'no directives'],
    ['trailing %', [], 'trailing %'],
    ['%n and %q', [1], '%n and %q'],
    ['dev/%s/temp/%d', ['kitchen', 3], 'dev/kitchen/temp/3'],
    ['%d', [true], '1'],
    ['%d', ['x'], '0'],
]

for (const [fmt, args, expected] of cases) {
    test(`sfmt ${JSON.stringify(fmt)} ${args.map(a => typeof a === 'bigint' ? `${a}n` : String(a)).join(',')}`, t => {
        t.is(sfmt(fmt, ...args), expected)
    })
}

test('sfmt %p prints a stable 0x address per object', t => {
    const a = {}
    const p = sfmt('%p', a)
    t.regex(p, /^0x[0-9a-f]+$/)
    t.is(sfmt('%p', a), p)
    t.not(sfmt('%p', {}), p)
    t.is(sfmt('%p', 255), '0xff')
})
