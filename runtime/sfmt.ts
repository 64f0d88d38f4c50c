/*
    sfmt: the runtime's printf. The subset of Ioto's R printf: flags "-+ #0,'", width and "*", ".precision"
    and ".*", length modifiers h hh l ll L z j t (accepted and ignored), conversions c d i u x X o s e f g E G p %.
    Always formats, even with no arguments, so a literal "%" behaves as in C. Width and precision are bounded by
    SFMT_MAX_WIDTH (a format is code: a runaway number must not build a string of millions of characters).
 */

/** Largest width or precision honoured; larger ones are clamped to it. */
export const SFMT_MAX_WIDTH = 4096

const pointers = new WeakMap<object, number>()
let nextPointer = 0x1000

/**
    Format like C's printf.
    @example sfmt('dev/%s/temp', 'kitchen')      // "dev/kitchen/temp"
    @example sfmt('%-6s|%05.1f|%#x', 'ab', 3.14159, 255) // "ab    |003.1|0xff"
 */
export function sfmt(fmt: string, ...args: unknown[]): string {
    return sfmtv(fmt, args)
}

/**
    sfmt with the arguments in an array (C's vsfmt).
    @example sfmtv('%s=%05.1f', ['temp', 21.5])   // 'temp=021.5'
 */
export function sfmtv(fmt: string, args: readonly unknown[]): string {
    let i = fmt.indexOf('%')
    if (i < 0) {
        return fmt
    }
    let out = fmt.slice(0, i)
    let argi = 0
    const len = fmt.length
    while (i < len) {
        const c = fmt.charCodeAt(i)
        if (c !== 37 /* % */) {
            const next = fmt.indexOf('%', i)
            const end = next < 0 ? len : next
            out += fmt.slice(i, end)
            i = end
            continue
        }
        const start = i++
        let left = false, plus = false, space = false, alt = false, zero = false, comma = false
        for (; i < len; i++) {
            const f = fmt[i]
            if (f === '-') left = true
            else if (f === '+') plus = true
            else if (f === ' ') space = true
            else if (f === '#') alt = true
            else if (f === '0') zero = true
            else if (f === ',' || f === "'") comma = true
            else break
        }
        let width = 0
        if (fmt[i] === '*') {
            width = Math.trunc(Number(args[argi++]) || 0)
            if (width < 0) {
                left = true
                width = -width
            }
            i++
        } else {
            while (i < len && fmt.charCodeAt(i) >= 48 && fmt.charCodeAt(i) <= 57) {
                width = Math.min(width * 10 + fmt.charCodeAt(i++) - 48, SFMT_MAX_WIDTH)
            }
        }
        width = Math.min(width, SFMT_MAX_WIDTH)
        let precision = -1
        if (fmt[i] === '.') {
            i++
            precision = 0
            if (fmt[i] === '*') {
                precision = Math.trunc(Number(args[argi++]) || 0)
                if (precision < 0) {
                    precision = -1
                }
                i++
            } else {
                while (i < len && fmt.charCodeAt(i) >= 48 && fmt.charCodeAt(i) <= 57) {
                    precision = Math.min(precision * 10 + fmt.charCodeAt(i++) - 48, SFMT_MAX_WIDTH)
                }
            }
            precision = Math.min(precision, SFMT_MAX_WIDTH)
        }
        let wide = false
        while (i < len && 'hlLzjtq'.includes(fmt[i])) {
            wide = wide || fmt[i] !== 'h'
            i++
        }
        if (i >= len) {
            out += fmt.slice(start)
            break
        }
        const type = fmt[i++]
        let body: string
        let sign = ''
        let numeric = true
        switch (type) {
        case '%':
            out += '%'
            continue
        case 'd':
        case 'i': {
            const v = toInteger(args[argi++])
            if (v < 0n) {
                sign = '-'
            } else if (plus) {
                sign = '+'
            } else if (space) {
                sign = ' '
            }
            body = intDigits(v < 0n ? -v : v, 10, precision, comma)
            break
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            let v = toInteger(args[argi++])
            if (v < 0n) {
                /* Negative values wrap as C's unsigned int (64 bits with an l, ll, z, j or t modifier) */
                v = BigInt.asUintN(wide || v < -0x80000000n ? 64 : 32, v)
            }
            const radix = type === 'u' ? 10 : type === 'o' ? 8 : 16
            body = intDigits(v, radix, precision, comma && radix === 10)
            if (type === 'X') {
                body = body.toUpperCase()
            }
            if (alt && v !== 0n) {
                if (type === 'x') sign = '0x'
                else if (type === 'X') sign = '0X'
                else if (type === 'o' && body[0] !== '0') body = '0' + body
            }
            break
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G': {
            const v = Number(args[argi++])
            if (v < 0 || Object.is(v, -0)) {
                sign = '-'
            } else if (plus) {
                sign = '+'
            } else if (space) {
                sign = ' '
            }
            body = floatDigits(Math.abs(v), type, precision < 0 ? 6 : precision, alt, comma)
            if (!Number.isFinite(v)) {
                zero = false
            }
            break
        }
        case 'c': {
            const v = args[argi++]
            body = typeof v === 'number' ? String.fromCharCode(v) : String(v ?? '').slice(0, 1)
            numeric = false
            break
        }
        case 's': {
            const v = args[argi++]
            body = v === null || v === undefined ? 'null' : v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)
            if (precision >= 0) {
                body = body.slice(0, precision)
            }
            numeric = false
            break
        }
        case 'p': {
            const v = args[argi++]
            body = (typeof v === 'object' && v !== null) || typeof v === 'function' ? pointerOf(v as object) : Number(v ?? 0).toString(16)
            sign = '0x'
            break
        }
        default:
            /* Unsupported (including %n): emit the directive as written */
            out += fmt.slice(start, i)
            continue
        }
        const size = sign.length + body.length
        if (size >= width) {
            out += sign + body
        } else if (left) {
            out += sign + body + ' '.repeat(width - size)
        } else if (zero && numeric && (precision < 0 || 'eEfFgG'.includes(type))) {
            out += sign + '0'.repeat(width - size) + body
        } else {
            out += ' '.repeat(width - size) + sign + body
        }
    }
    return out
}

function toInteger(v: unknown): bigint {
    if (typeof v === 'bigint') {
        return v
    }
    if (typeof v === 'boolean') {
        return v ? 1n : 0n
    }
    const n = Math.trunc(Number(v))
    return Number.isFinite(n) ? BigInt(n) : 0n
}

function intDigits(v: bigint, radix: number, precision: number, comma: boolean): string {
    let s = precision === 0 && v === 0n ? '' : v.toString(radix)
    if (precision > s.length) {
        s = '0'.repeat(precision - s.length) + s
    }
    return comma ? group(s) : s
}

function group(digits: string): string {
    let out = ''
    let n = digits.length
    while (n > 3) {
        out = ',' + digits.slice(n - 3, n) + out
        n -= 3
    }
    return digits.slice(0, n) + out
}

function floatDigits(v: number, type: string, precision: number, alt: boolean, comma: boolean): string {
    if (!Number.isFinite(v)) {
        const s = Number.isNaN(v) ? 'nan' : 'inf'
        return type === 'E' || type === 'G' || type === 'F' ? s.toUpperCase() : s
    }
    let s: string
    if (type === 'f' || type === 'F') {
        s = v.toFixed(Math.min(precision, 100))
        if (comma) {
            const dot = s.indexOf('.')
            s = dot < 0 ? group(s) : group(s.slice(0, dot)) + s.slice(dot)
        }
        if (alt && precision === 0) {
            s += '.'
        }
        return s
    }
    if (type === 'e' || type === 'E') {
        s = exponential(v, precision, alt)
        return type === 'E' ? s.toUpperCase() : s
    }
    /* %g: the shorter of %e and %f as C defines it, trailing zeros removed unless '#' */
    /* toExponential takes at most 100 digits: a double has no more than 17 significant ones anyway */
    const p = precision === 0 ? 1 : Math.min(precision, 101)
    const x = v === 0 ? 0 : Math.floor(Math.log10(Number(v.toExponential(p - 1))))
    if (p > x && x >= -4) {
        s = v.toFixed(Math.min(p - 1 - x, 100))
        if (!alt && s.includes('.')) {
            s = s.replace(/\.?0+$/, '')
        }
    } else {
        s = exponential(v, p - 1, alt)
        if (!alt) {
            s = s.replace(/\.?0+e/, 'e')
        }
    }
    return type === 'G' ? s.toUpperCase() : s
}

function exponential(v: number, precision: number, alt: boolean): string {
    const s = v.toExponential(Math.min(precision, 100))
    const e = s.indexOf('e')
    let mantissa = s.slice(0, e)
    if (alt && precision === 0) {
        mantissa += '.'
    }
    const exp = s.slice(e + 1)
    const digits = exp.slice(1)
    return mantissa + 'e' + exp[0] + (digits.length < 2 ? '0' + digits : digits)
}

function pointerOf(o: object): string {
    let p = pointers.get(o)
    if (p === undefined) {
        p = nextPointer
        nextPointer += 0x10
        pointers.set(o, p)
    }
    return p.toString(16)
}
