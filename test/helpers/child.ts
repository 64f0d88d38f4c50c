/*
    A child process's end, for tests that read its output: 'exit' can come before the last of its stdout and
    stderr has been read (the pipes drain after it), so the exit code is given once the pipes have closed too.
    A grandchild that still holds them (a broker or worker the child started) is waited for at most DRAIN_MS.
 */
import type { ChildProcess } from 'node:child_process'

const DRAIN_MS = 2000

/**
    The child's exit code (null when a signal ended it), once its output has been read.
    @example const code = await ended(child); t.regex(out, /done/)
 */
export function ended(child: ChildProcess): Promise<number | null> {
    return new Promise(resolve => {
        let drain: NodeJS.Timeout | undefined
        child.once('exit', code => { drain = setTimeout(() => resolve(code), DRAIN_MS) })
        child.once('close', code => {
            clearTimeout(drain)
            resolve(code)
        })
    })
}
