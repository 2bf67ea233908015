import type { Command } from '../command.js'
import { accountNew } from './account-new.js'
import { audit } from './audit.js'
import { get } from './get.js'
import { grant, revoke, rotate } from './grant.js'
import { grants } from './grants.js'
import {
  held,
  heldDiscard,
  heldResolve,
  patientIdRemove,
  patientIdSet,
  patientIdShow,
} from './ingest-desk.js'
import { records } from './records.js'
import { register } from './register.js'
import { deidentify, emergency, request, requests, respond } from './requests.js'
import { serve } from './serve.js'
import { show } from './show.js'
import { start } from './start.js'
import { status } from './status.js'
import { approve, registrations, reject, suspend } from './unit-admin.js'
import { upload } from './upload.js'

export const commands: Command[] = [
  start,
  status,
  accountNew,
  register,
  registrations,
  approve,
  reject,
  suspend,
  held,
  heldResolve,
  heldDiscard,
  patientIdSet,
  patientIdRemove,
  patientIdShow,
  upload,
  records,
  show,
  get,
  serve,
  grant,
  grants,
  revoke,
  rotate,
  request,
  requests,
  respond,
  deidentify,
  emergency,
  audit,
]
