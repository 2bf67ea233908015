// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Reconstruction of the seed paper's contract, from its Listing 1 ("Code snippet for adding image to the
// chain", PCMIMS paper, Section IV). Only `AddImageCentric` is printed there; the struct, the two mappings,
// the counter and the event are reconstructed from the names and arguments the listing uses. Ported to
// Solidity >= 0.8: `now` became `block.timestamp`; the listing's mixed `_x` / `x` parameter spellings use the
// names of its line 1. Deliberately NOT optimised: it is the baseline of bench/src/gas.ts.
contract SeedPaperImageCentric {
    struct ImageCentric {
        uint256 id;
        uint256 appointment_id;
        string description;
        string filehash;
        uint256 timestamp;
    }

    uint256 public imgCount;
    mapping(uint256 => ImageCentric) public GetImageCentric_Id;
    mapping(string => mapping(uint256 => ImageCentric)) public PatientRecordAccess;

    event ImageCentricCreated(
        uint256 id, uint256 appointment_id, string description, string filehash, uint256 timestamp
    );

    function AddImageCentric(
        string memory patientUserId,
        uint256 appointment_id,
        string memory description,
        string memory filehash
    ) public {
        imgCount++;
        GetImageCentric_Id[appointment_id] =
            ImageCentric(imgCount, appointment_id, description, filehash, block.timestamp);
        PatientRecordAccess[patientUserId][appointment_id] =
            ImageCentric(imgCount, appointment_id, description, filehash, block.timestamp);
        emit ImageCentricCreated(imgCount, appointment_id, description, filehash, block.timestamp);
    }
}
