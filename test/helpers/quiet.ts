/*
    Quiet tests: the library's log lines (errors provoked on purpose among them) are kept, not printed; when a
    test fails, its file's recent lines are shown with the failure, and the file's listeners are closed at its end.
 */
import type { TestFn } from 'ava'
import { rFormatLog, rSetLogHandler } from '../../runtime/index.js'
import { closeListenersAtEnd } from './net.js'

const KEEP = 400
const lines: string[] = []
let installed = false

/** Keep this test file's log lines; show them after a test that fails. */
export function quietLogs(test: TestFn): void {
    if (!installed) {
        installed = true
        rSetLogHandler((type, source, msg) => {
            lines.push(rFormatLog(type, source, msg))
            if (lines.length > KEEP) {
                lines.shift()
            }
        })
    }
    test.afterEach.always(t => {
        if (!t.passed && lines.length > 0) {
            process.stderr.write(`--- log lines of ${t.title} and the tests beside it ---\n${lines.join('\n')}\n---\n`)
        }
    })
    /* A test that failed left its listeners open: the file's process still exits (not at AVA's timeout) */
    closeListenersAtEnd(test)
}
