/**
 * A FHIR R4 Bundle with one lipid panel: LDL above its reference range (flag H), HDL within it. The
 * report tests of the CLI and of the portal's lab table upload it.
 */
export const FHIR_LIPID_PANEL = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      resource: {
        resourceType: 'DiagnosticReport',
        status: 'final',
        code: { text: 'Lipid panel' },
        effectiveDateTime: '2026-03-02T08:30:00Z',
        performer: [{ display: 'Central Lab' }],
        result: [{ reference: 'Observation/ldl' }, { reference: 'Observation/hdl' }],
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'ldl',
        status: 'final',
        code: { text: 'LDL cholesterol' },
        valueQuantity: { value: 4.2, unit: 'mmol/L' },
        referenceRange: [{ high: { value: 3.0, unit: 'mmol/L' } }],
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'hdl',
        status: 'final',
        code: { text: 'HDL cholesterol' },
        valueQuantity: { value: 1.4, unit: 'mmol/L' },
        referenceRange: [{ low: { value: 1.0, unit: 'mmol/L' } }],
      },
    },
  ],
}
