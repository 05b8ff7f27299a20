// The one upload queue of the page, wired to the API and to storage. Loaded on first
// use, so the upload code is not part of the first screen.
import { putBlob, uploads } from "../api/client.js";
import { sha256File } from "./hash.js";
import { UploadQueue } from "./queue.js";

let queue = null;

/** A `beforeunload` listener that makes the browser ask before leaving the page while
 * `queue` has files in flight. */
export function warnWhileActive(queue) {
  return (event) => {
    if (queue.getSnapshot().active) {
      event.preventDefault();
      event.returnValue = "";
    }
  };
}

/** The page's upload queue; warns before leaving the page while files are in flight. */
export function getQueue() {
  if (!queue) {
    queue = new UploadQueue({ hash: sha256File, api: uploads, put: putBlob });
    window.addEventListener("beforeunload", warnWhileActive(queue));
  }
  return queue;
}
