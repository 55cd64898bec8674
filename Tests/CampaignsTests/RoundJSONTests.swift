@testable import Campaigns
import Foundation
import Testing

/// A round's parameters and metrics are stored as JSON text in the campaign file. They were written
/// by hand: a NaN metric (a held-out set of one class) came out as `nan`, which no JSON reader takes,
/// and `campaign status` then lost every metric of that round.
@Suite struct RoundJSONTests {
    @Test func nonFiniteMetricsAreNullAndTheRestSurvive() throws {
        let text = try Campaign.json(["validation_roc_auc": .nan, "validation_rmse": .infinity, "candidates": 1500,
                                      "training_labels": 30, "validation_prc_auc": 0.123456789])
        #expect(text == #"{"candidates":1500,"training_labels":30,"validation_prc_auc":0.123457,"validation_rmse":null,"validation_roc_auc":null}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed?.count == 5)
        #expect(Campaign.roundNumbers(text) == ["candidates": 1500, "training_labels": 30, "validation_prc_auc": 0.123457])
    }

    @Test func textValuesAreEscaped() throws {
        let text = try Campaign.json(["cold_start": "no \"actives\" yet \\ /", "batch": "96"])
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(parsed == ["cold_start": "no \"actives\" yet \\ /", "batch": "96"])
    }

    /// Rounds stored by earlier versions (hand-written, spaces after colons) still read.
    @Test func earlierLayoutStillReads() {
        #expect(Campaign.roundNumbers(#"{"candidates": 1500, "validation_roc_auc": 0.812345}"#) == ["candidates": 1500, "validation_roc_auc": 0.812345])
    }
}
