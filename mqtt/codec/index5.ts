/*
    The MQTT 5.0 codec: packets, properties, reason codes, parsing and encoding.
 */
export type * from './packets5.js'
export type { Properties, PropertyPlace } from './properties.js'
export { propertiesSize, readProperties, writeProperties, PROPERTY_DEFS } from './properties.js'
export { REASON_NAMES, REASON_CODES, reasonName } from './reasons.js'
export { parse5, Mqtt5Decoder } from './decode5.js'
export { encode5, encodePublish5, encodeProperties, publish5Size, writePublish5 } from './encode5.js'
export type { Publish5Encoder } from './writer.js'
