import { kindsOf, listReceivedGrants } from '@pcmims/core'
import type { Command } from '../command.js'
import { flag } from '../command.js'
import { connect } from '../context.js'
import { reasonName } from '../vocabulary.js'

type GrantListing = {
  grants: Array<{
    grantee: string
    scope: string
    kindMask: number
    expiresAt: number
    download: boolean
    deidentifiedOnly: boolean
    records: string[]
  }>
}

type EmergencyListing = {
  emergencies: Array<{
    medic: string
    patient: string
    reasonCode: number
    until: number
    active: boolean
    ended: boolean
  }>
}

const when = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')

export const grants: Command = {
  name: ['grants'],
  summary: 'Patient: who may see your records now (active grants) and every emergency access to them',
  usage: 'grants [--received]',
  options: { received: { type: 'boolean' } },
  details: [['--received', 'instead: the grants you hold, i.e. the patients who let you read their records']],
  async run(ctx) {
    const client = await connect(ctx.global)
    const me = client.account.address
    if (flag(ctx, 'received')) {
      const received = await listReceivedGrants(client, { signal: ctx.signal })
      ctx.io.result({ grantee: me, grants: received }, () =>
        received.length === 0
          ? 'No patient has granted you access.'
          : [
              'Patients who granted you access:',
              ...received.map(
                (g) =>
                  `  ${g.patient}  ${g.scope === 'Kinds' ? kindsOf(g.kindMask).join(', ') : g.scope === 'Records' ? `${g.records.length} record(s)` : 'all records'}  until ${when(g.expiresAt)}  ${g.download ? 'download' : 'view only'}${g.deidentifiedOnly ? ', de-identified only' : ''}`,
              ),
            ].join('\n'),
      )
      return
    }
    const { grants: active } = await client.node.json<GrantListing>('GET', '/api/v1/grants', {
      query: { patient: me },
    })
    const { emergencies } = await client.node.json<EmergencyListing>('GET', '/api/v1/emergencies')
    const mine = emergencies.filter((e) => e.patient === me)
    ctx.io.result({ patient: me, grants: active, emergencies: mine }, () =>
      [
        active.length === 0 ? 'No active grants.' : 'Active grants:',
        ...active.map((g) => {
          const scope =
            g.scope === 'Kinds'
              ? kindsOf(g.kindMask).join(', ')
              : g.scope === 'Records'
                ? `${g.records.length} record(s)`
                : 'all records'
          const terms = [
            g.download ? 'download' : 'view only',
            ...(g.deidentifiedOnly ? ['de-identified only'] : []),
          ]
          return `  ${g.grantee}  ${scope}  until ${when(g.expiresAt)}  ${terms.join(', ')}`
        }),
        mine.length === 0 ? 'No emergency access, ever.' : 'EMERGENCY ACCESS to your records:',
        ...mine.map(
          (e) =>
            `  ${e.active ? 'ACTIVE ' : e.ended ? 'ended  ' : 'expired'}  medic ${e.medic}  reason ${reasonName(e.reasonCode)}  until ${when(e.until)}`,
        ),
      ].join('\n'),
    )
  },
}
