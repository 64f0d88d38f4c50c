/*
    The benchmarks' command lines. Each script names the options it takes; --help (or -h) prints its usage and
    exits 0, and an unknown option, an option without its value or a count that is not a number exits 2 before
    anything runs: a misspelt option used to be ignored, so the whole benchmark ran (and, without --out, wrote
    over the committed results).
 */

export interface BenchOptions {
    /** A flag given (--quick) */
    has(name: string): boolean
    /** An option's value, or undefined when not given */
    value(name: string): string | undefined
    /** A count: the option's value as a number (at least 0), or the fallback when not given */
    number(name: string, fallback: number): number
    /** The arguments that are not options, in order */
    positional: string[]
}

/** Leave with the usage on stderr and status 2 (or on stdout and status 0 for --help) */
function usageExit(usage: string, error: string | null): never {
    if (error === null) {
        process.stdout.write(`${usage}\n`)
        process.exit(0)
    }
    process.stderr.write(`${error}\n${usage}\n`)
    process.exit(2)
}

/**
    Parse the command line: `flags` take no value, `values` take the next argument.
    @example const o = benchOptions('npm run bench:codec [-- --rounds 5]', [], ['--rounds']); o.number('--rounds', 5)
 */
export function benchOptions(usage: string, flags: string[], values: string[], argv = process.argv.slice(2)): BenchOptions {
    const given = new Map<string, string | null>()
    const positional: string[] = []
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        if (a === '--help' || a === '-h') {
            usageExit(`Usage: ${usage}`, null)
        } else if (flags.includes(a)) {
            given.set(a, null)
        } else if (values.includes(a)) {
            if (i + 1 >= argv.length) {
                usageExit(`Usage: ${usage}`, `${a} needs a value`)
            }
            given.set(a, argv[++i])
        } else if (a.startsWith('-')) {
            usageExit(`Usage: ${usage}`, `Unknown option ${a}`)
        } else {
            positional.push(a)
        }
    }
    return {
        positional,
        has: name => given.has(name),
        value: name => given.get(name) ?? undefined,
        number(name, fallback) {
            const v = given.get(name)
            if (v === undefined || v === null) {
                return fallback
            }
            const n = Number(v)
            if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
                usageExit(`Usage: ${usage}`, `${name}: "${v}" is not a number`)
            }
            return n
        },
    }
}
