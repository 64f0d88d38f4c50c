/*
    Codec errors: a stable code, the spec rule broken, and a message naming it. The decoder throws nothing else.
 */
export type MqttCodecErrorCode =
    | 'MQTT_BAD_TYPE' | 'MQTT_BAD_FLAGS' | 'MQTT_BAD_QOS' | 'MQTT_BAD_LENGTH' | 'MQTT_TOO_LARGE' | 'MQTT_BAD_UTF8'
    | 'MQTT_BAD_STRING' | 'MQTT_BAD_ID' | 'MQTT_BAD_TOPIC' | 'MQTT_BAD_FILTER' | 'MQTT_EMPTY' | 'MQTT_BAD_CONNECT'
    | 'MQTT_BAD_CONNACK' | 'MQTT_BAD_SUBACK' | 'MQTT_BAD_PACKET' | 'MQTT_BAD_ARGS' | 'MQTT_BAD_PROPERTY' | 'MQTT_BAD_REASON'

/**
    A codec error: `code` is stable (MQTT_BAD_FLAGS, MQTT_TOO_LARGE, ...), the message names the rule broken.
    @example try { decoder.push(chunk, onPacket) } catch (e) { if (e instanceof MqttCodecError) rError('mqtt', '%s: %s', e.code, e.message) }
 */
export class MqttCodecError extends Error {
    override name = 'MqttCodecError'

    constructor(readonly code: MqttCodecErrorCode, readonly rule: string, message: string) {
        super(rule ? `${message} ${rule}` : message)
    }
}

export function fail(code: MqttCodecErrorCode, rule: string, message: string): never {
    throw new MqttCodecError(code, rule, message)
}
