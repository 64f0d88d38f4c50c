import test from 'ava'
import { startAedes } from '../../examples/lib/broker.js'
import { brokerSuite } from './suite.js'

brokerSuite(test, startAedes)
