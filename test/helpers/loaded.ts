/*
    For `node --import <this module>`: every module of the project the program loads (file: URLs under dist/) is
    appended, one per line, to the file LOADED_FILE names. The same module is the resolve hook, run on the
    loader's own thread, where `initialize` gets that file's path.
 */
import { appendFileSync } from 'node:fs'
import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'

let file = ''

export function initialize(data: string): void {
    file = data
}

export async function resolve(specifier: string, context: object,
    next: (specifier: string, context: object) => Promise<{ url: string }>): Promise<{ url: string }> {
    const result = await next(specifier, context)
    if (result.url.startsWith('file:') && result.url.includes('/dist/')) {
        appendFileSync(file, `${result.url}\n`)
    }
    return result
}

if (isMainThread && process.env.LOADED_FILE !== undefined) {
    register(import.meta.url, { data: process.env.LOADED_FILE })
}
