/*
    The socket-to-client adapter: what the socket tells a client (chunks, the end, drain) goes to the inbound
    decoder, the connection's end, and the outbound window. One object per client, its methods shared.
 */
import type { SocketReceiver } from '../../socket/rsocket.js'
import { onChunk } from './inbound.js'
import { connectionLost } from './link.js'
import type { Mqtt } from './state.js'
import { pump, wakeRoom } from './window.js'

export class Receiver implements SocketReceiver {
    constructor(readonly mq: Mqtt) {}

    onData(chunk: Buffer): void {
        onChunk(this.mq, chunk)
    }

    onEnd(code: number, reason: string): void {
        connectionLost(this.mq, code, reason)
    }

    /* The socket drained: queued messages and waiting publishers may go on */
    onDrain(): void {
        pump(this.mq)
        wakeRoom(this.mq)
    }
}
