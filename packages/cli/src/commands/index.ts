import type { Command } from '../command.js'
import { accountNew } from './account-new.js'
import { audit } from './audit.js'
import { get } from './get.js'
import { grant, revoke, rotate } from './grant.js'
import { grants } from './grants.js'
import { records } from './records.js'
import { register } from './register.js'
import { emergency, request, requests, respond } from './requests.js'
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
  upload,
  records,
  show,
  get,
  grant,
  grants,
  revoke,
  rotate,
  request,
  requests,
  respond,
  emergency,
  audit,
]
