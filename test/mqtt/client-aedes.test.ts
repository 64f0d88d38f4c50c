import test from 'ava'
import { startAedes } from '../../brokers/broker.js'
import { brokerSuite } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

brokerSuite(test, startAedes)
