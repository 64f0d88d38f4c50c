/*
    Lines as they arrive on a stream (pub -l): split on '\n' only (a '\r' stays in the message, as mosquitto_pub
    sends it).
 */

/**
    The whole lines of each chunk together (published in one go, their packets share a socket write), and the
    last one unterminated at the end. A line that spans chunks is joined once, when its end comes: a long
    line costs one copy, not one for every chunk it spans.
    @example for await (const lines of linesOf(process.stdin)) for (const line of lines) send(line)
 */
export async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
    /* The pieces of a line begun in earlier chunks */
    let parts: Buffer[] = []
    for await (const chunk of chunks) {
        const lines: Buffer[] = []
        let start = 0
        let nl: number
        while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
            const piece = chunk.subarray(start, nl)
            lines.push(parts.length > 0 ? Buffer.concat([...parts, piece]) : piece)
            parts = []
            start = nl + 1
        }
        if (start < chunk.length) {
            parts.push(chunk.subarray(start))
        }
        if (lines.length > 0) {
            yield lines
        }
    }
    if (parts.length > 0) {
        yield [Buffer.concat(parts)]
    }
}
