export function UploadStudy() {
  return <p>UploadStudy: to be built.</p>
}
