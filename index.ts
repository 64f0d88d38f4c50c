/*
    fiber-mqtt: the runtime, socket and MQTT layers in one import.
 */
export * from './runtime/index.js'
export * from './socket/index.js'
export * from './mqtt/index.js'
export * from './mqtt/agent/index.js'
export * from './mqtt/mongoose.js'
export * from './mqtt/promise.js'
