/*
    The MQTT 3.1.1 codec: pure functions over Uint8Array, no I/O.
 */
export { MqttCodecError, type MqttCodecErrorCode } from './errors.js'
export type * from './packets.js'
export { parse, parseFromServer } from './decode.js'
export { MqttClientDecoder, MqttDecoder, PacketDecoder, type AckSink, type PacketSink } from './decoder.js'
export {
    encode, encodeConnect, encodeSubscribe, encodeUnsubscribe, packetSize, writePacket, PINGREQ_BYTES, PINGRESP_BYTES, DISCONNECT_BYTES,
} from './encode.js'
export { encodePublish, encodeTopic, publishSize, writePublish, setDup, PUBLISH_HEADER } from './encode-publish.js'
export { PacketBuffer, PacketWriter } from './writer.js'
export { decodeUtf8, utf8Length } from './utf8.js'
